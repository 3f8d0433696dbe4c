/**
 * A hello-world campaign spec on one repository (`github.com/acme/a` unless given), for tests
 * that need a valid spec and not what it does (FixedResolver answers whatever `on:` says).
 */
export function helloWorldSpec(repository = 'github.com/acme/a'): string {
  return `name: hello-world
description: Add Hello World to READMEs
on:
  - repository: ${repository}
steps:
  - run: echo Hello >> README.md
    container: alpine:3
changesetTemplate:
  title: Hello World
  body: My first campaign!
  branch: hello-world
  commit:
    message: Append Hello
`;
}
