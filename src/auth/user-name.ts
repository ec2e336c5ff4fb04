/** What the users table accepts (its check constraint users_name_valid says the same). */
const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

/** Rules a new user name must meet, as a sentence fragment, or undefined when it is fine. */
export function userNameProblem(name: string): string | undefined {
  if (name === '') return 'enter a user name';
  if (/\p{Cc}/u.test(name)) return 'the user name must not contain control characters';
  if (!isValidUserName(name)) return 'the user name may have only letters, digits and . _ @ -, up to 64 characters';
  return undefined;
}
