import { hashPassword, passwordProblem } from '../auth/password.ts';
import { isValidUserName } from '../auth/user-name.ts';
import { insertUser } from '../auth/users.repository.ts';
import { readPassword } from './read-password.ts';
import { CommandError, UsageError, parseCommandLine, runCommand, withDatabase } from './cli.ts';

const usage = `
Usage: npm run user -- add NAME

Creates a user who may sign in to the stats pages. The password is asked for
twice (not echoed); when stdin is not a terminal it is read from stdin (its
first line), e.g.  printf '%s\\n' "$PASSWORD" | npm run user -- add ann

Names: letters, digits and . _ @ -, up to 64 characters, unique whatever
their case. Passwords: at least 10 characters. Only a scrypt hash is stored.

Options:
  -h, --help  show this help
`;

await runCommand('user', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), {}, usage);
  if (!args) return;
  const [action, name, ...extra] = args.positionals;
  if (action !== 'add') throw new UsageError(action ? `unknown action "${action}": the only action is add NAME` : 'say add NAME');
  if (!name) throw new UsageError('add needs the new user\'s NAME');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!isValidUserName(name)) {
    throw new UsageError(`"${name}" is not a valid user name: use letters, digits and . _ @ -, up to 64 characters`);
  }
  const password = await readPassword();
  const problem = passwordProblem(password);
  if (problem) throw new CommandError(`${problem}; nothing was created: run the command again with another password`);
  const hash = await hashPassword(password);

  await withDatabase(async ({ pool }) => {
    try {
      await insertUser(pool, name, hash);
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'users_name_unique') throw new CommandError(`a user named "${name}" already exists (names are unique whatever their case): choose another name`);
      throw error;
    }
    process.stdout.write(`created user ${name}; sign in with it at /login on the service (make start prints its address)\n`);
  });
});
