import { createInterface } from 'node:readline';
import { CommandError } from './cli.ts';

/**
 * The password from a prompt (asked twice, not echoed) when stdin is a
 * terminal, else the first line of stdin: never from argv, where it would
 * sit in the shell history and in `ps` for everyone to read.
 */
export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    return input.split(/\r?\n/)[0] ?? '';
  }
  const first = await ask('Password: ');
  const second = await ask('Password again: ');
  if (first !== second) throw new CommandError('the two passwords differ; nothing was created: run the command again and type the same one twice');
  return first;
}

function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing of what is typed (readline writes through _writeToOutput).
    const muted = rl as unknown as { _writeToOutput: (text: string) => void };
    process.stderr.write(prompt);
    muted._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
