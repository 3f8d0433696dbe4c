/**
 * Languages for the `lang:` filter, by Linguist name and common aliases, with the file extensions
 * and names that identify them. `lang:` is evaluated by these (Sourcegraph uses the same Linguist
 * data through go-enry, which can also look at content; files without a telling name differ).
 */
export interface Language {
  readonly name: string;
  readonly extensions: readonly string[];
  readonly filenames?: readonly string[];
}

const LANGUAGES: readonly (Language & { aliases?: readonly string[] })[] = [
  { name: 'Batchfile', extensions: ['.bat', '.cmd'], aliases: ['bat', 'batch'] },
  { name: 'C', extensions: ['.c', '.h'] },
  { name: 'C#', extensions: ['.cs', '.csx'], aliases: ['csharp', 'cs'] },
  {
    name: 'C++',
    extensions: ['.cpp', '.cc', '.cxx', '.hpp', '.hh', '.hxx', '.h++', '.c++'],
    aliases: ['cpp'],
  },
  { name: 'Clojure', extensions: ['.clj', '.cljs', '.cljc', '.edn'] },
  { name: 'CMake', extensions: ['.cmake'], filenames: ['CMakeLists.txt'] },
  { name: 'CoffeeScript', extensions: ['.coffee'], aliases: ['coffee'] },
  { name: 'CSS', extensions: ['.css'] },
  { name: 'CSV', extensions: ['.csv'] },
  { name: 'Dart', extensions: ['.dart'] },
  {
    name: 'Dockerfile',
    extensions: ['.dockerfile'],
    filenames: ['Dockerfile', 'Containerfile'],
    aliases: ['docker'],
  },
  { name: 'Elixir', extensions: ['.ex', '.exs'] },
  { name: 'Elm', extensions: ['.elm'] },
  { name: 'Erlang', extensions: ['.erl', '.hrl'] },
  { name: 'F#', extensions: ['.fs', '.fsi', '.fsx'], aliases: ['fsharp'] },
  { name: 'Go', extensions: ['.go'], aliases: ['golang'] },
  { name: 'Go Module', extensions: [], filenames: ['go.mod'] },
  { name: 'GraphQL', extensions: ['.graphql', '.gql', '.graphqls'] },
  { name: 'Groovy', extensions: ['.groovy', '.gradle', '.gvy'], filenames: ['Jenkinsfile'] },
  { name: 'Haskell', extensions: ['.hs', '.lhs'] },
  { name: 'HCL', extensions: ['.hcl', '.tf', '.tfvars', '.nomad'], aliases: ['terraform'] },
  { name: 'HTML', extensions: ['.html', '.htm', '.xhtml'], aliases: ['xhtml'] },
  { name: 'INI', extensions: ['.ini', '.cfg', '.properties'], aliases: ['dosini'] },
  { name: 'Java', extensions: ['.java'] },
  { name: 'JavaScript', extensions: ['.js', '.mjs', '.cjs', '.jsx'], aliases: ['js', 'node'] },
  { name: 'JSON', extensions: ['.json', '.jsonc', '.json5'], aliases: ['geojson', 'jsonl'] },
  { name: 'Jsonnet', extensions: ['.jsonnet', '.libsonnet'] },
  { name: 'Julia', extensions: ['.jl'] },
  { name: 'Kotlin', extensions: ['.kt', '.kts'] },
  { name: 'Less', extensions: ['.less'] },
  { name: 'Lua', extensions: ['.lua'] },
  {
    name: 'Makefile',
    extensions: ['.mk', '.mak'],
    filenames: ['Makefile', 'GNUmakefile', 'makefile'],
    aliases: ['make', 'bsdmake', 'mf'],
  },
  {
    name: 'Markdown',
    extensions: ['.md', '.markdown', '.mdown', '.mkd', '.mdx'],
    aliases: ['md', 'pandoc'],
  },
  { name: 'Nix', extensions: ['.nix'], aliases: ['nixos'] },
  { name: 'Objective-C', extensions: ['.m'], aliases: ['objc', 'obj-c', 'objectivec'] },
  { name: 'OCaml', extensions: ['.ml', '.mli'] },
  { name: 'Perl', extensions: ['.pl', '.pm', '.t'], aliases: ['cperl'] },
  { name: 'PHP', extensions: ['.php', '.phtml', '.php3', '.php4', '.php5'], aliases: ['inc'] },
  { name: 'PowerShell', extensions: ['.ps1', '.psd1', '.psm1'], aliases: ['posh', 'pwsh'] },
  {
    name: 'Protocol Buffer',
    extensions: ['.proto'],
    aliases: ['protobuf', 'proto', 'protocol buffers'],
  },
  {
    name: 'Python',
    extensions: ['.py', '.pyi', '.pyw'],
    filenames: ['BUILD', 'WORKSPACE'],
    aliases: ['python3', 'rusthon'],
  },
  { name: 'R', extensions: ['.r', '.rd', '.rsx'], aliases: ['rscript', 'splus'] },
  { name: 'reStructuredText', extensions: ['.rst', '.rest'], aliases: ['rst'] },
  {
    name: 'Ruby',
    extensions: ['.rb', '.rake', '.gemspec'],
    filenames: ['Gemfile', 'Rakefile'],
    aliases: ['jruby', 'macruby', 'rake', 'rb', 'rbx'],
  },
  { name: 'Rust', extensions: ['.rs'], aliases: ['rs'] },
  { name: 'Scala', extensions: ['.scala', '.sc', '.sbt'] },
  { name: 'SCSS', extensions: ['.scss'] },
  {
    name: 'Shell',
    extensions: ['.sh', '.bash', '.zsh', '.ksh'],
    aliases: ['sh', 'bash', 'zsh', 'shell-script'],
  },
  { name: 'SQL', extensions: ['.sql'] },
  {
    name: 'Starlark',
    extensions: ['.bzl', '.star'],
    filenames: ['BUILD.bazel', 'WORKSPACE.bazel'],
    aliases: ['bazel', 'bzl'],
  },
  { name: 'Svelte', extensions: ['.svelte'] },
  { name: 'Swift', extensions: ['.swift'] },
  { name: 'Text', extensions: ['.txt', '.text'], aliases: ['fundamental', 'plain text'] },
  { name: 'TOML', extensions: ['.toml'], filenames: ['Cargo.lock', 'Pipfile'] },
  { name: 'TSX', extensions: ['.tsx'] },
  { name: 'TypeScript', extensions: ['.ts', '.cts', '.mts'], aliases: ['ts'] },
  { name: 'Vue', extensions: ['.vue'] },
  {
    name: 'XML',
    extensions: ['.xml', '.xsd', '.xsl', '.svg', '.csproj', '.pom'],
    filenames: ['pom.xml'],
    aliases: ['rss', 'xsd', 'wsdl'],
  },
  { name: 'YAML', extensions: ['.yml', '.yaml'], aliases: ['yml'] },
  { name: 'Zig', extensions: ['.zig'] },
];

const BY_ALIAS = new Map<string, Language>();
for (const language of LANGUAGES) {
  for (const alias of [language.name, ...(language.aliases ?? [])]) {
    BY_ALIAS.set(alias.toLowerCase(), language);
  }
}

/** The language named `nameOrAlias` (case-insensitive), if we know it. */
export function findLanguage(nameOrAlias: string): Language | undefined {
  return BY_ALIAS.get(nameOrAlias.toLowerCase());
}

/** Every known name and alias, lower-case, for suggestions. */
export function languageNames(): string[] {
  return [...BY_ALIAS.keys()];
}

/** Whether a file path belongs to the language, by its name or extension. */
export function pathIsInLanguage(path: string, language: Language): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (language.filenames?.includes(base)) return true;
  const lower = base.toLowerCase();
  return language.extensions.some((ext) => lower.endsWith(ext));
}
