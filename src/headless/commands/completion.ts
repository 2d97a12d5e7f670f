// `certdesk completion bash|zsh`: completion scripts generated from the command tree, so every area's commands
// and options are included without a list to keep in sync.
import type { Command } from 'commander';
import { out } from './common.js';

interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
}

function walk(cmd: Command, path: string[], acc: Node[]): void {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  const options = cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  acc.push({
    path,
    subcommands: subs.flatMap((c) => [c.name(), ...c.aliases()]),
    options: [...options, '--help'],
  });
  for (const c of subs) for (const n of [c.name(), ...c.aliases()]) walk(c, [...path, n], acc);
}

function words(node: Node): string {
  return [...node.subcommands, ...node.options].join(' ');
}

export function bashCompletion(program: Command): string {
  const nodes: Node[] = [];
  walk(program, [], nodes);
  const cases = nodes.map((n) => `    "${n.path.join(' ')}") opts="${words(n)}" ;;`).join('\n');
  return `# bash completion for certdesk; load with: source <(certdesk completion bash)
_certdesk() {
  local cur path="" w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then candidate="$w"; else candidate="$path $w"; fi
    case "$candidate" in
${nodes
  .filter((n) => n.path.length > 0)
  .map((n) => `      "${n.path.join(' ')}") path="$candidate" ;;`)
  .join('\n')}
    esac
  done
  local opts=""
  case "$path" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _certdesk certdesk
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef certdesk
# zsh completion for certdesk; load with: source <(certdesk completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}

export function runCompletion(shell: 'bash' | 'zsh', program: Command): void {
  out(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
}
