import type { Command } from "commander";

/** Every command path and the words that may follow it (subcommands and options), from the program itself. */
function words(cmd: Command, path: string[] = [], into = new Map<string, string[]>()): Map<string, string[]> {
  const subs = cmd.commands.filter((c) => c.name() !== "help");
  const options = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === "string"));
  into.set(path.join(" "), [...subs.map((c) => c.name()), ...options]);
  for (const sub of subs) words(sub, [...path, sub.name()], into);
  return into;
}

/**
 * A bash or zsh completion script for the program's commands and options, generated from the
 * command tree, so it cannot drift from what the program accepts.
 */
export function completionScript(program: Command, shell: "bash" | "zsh"): string {
  const table = [...words(program)]
    .map(([path, next]) => `    ${JSON.stringify(path)}) next=${JSON.stringify(next.join(" "))} ;;`)
    .join("\n");
  const bash = `_agentmux_words() {
  case "$1" in
${table}
    *) return 1 ;;
  esac
  printf '%s' "$next"
}
_agentmux() {
  # Not "path" or "words": zsh ties those names to PATH and to its completion state.
  local cur cmd="" next i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${cmd:+$cmd }\${COMP_WORDS[i]}" ;; esac
  done
  # Arguments (an agent's name, a message) are not commands: complete for the command before them.
  until next=$(_agentmux_words "$cmd"); do
    [ -n "$cmd" ] || return 0
    case "$cmd" in *" "*) cmd="\${cmd% *}" ;; *) cmd="" ;; esac
  done
  COMPREPLY=($(compgen -W "$next" -- "$cur"))
}
complete -F _agentmux agentmux`;
  return shell === "bash" ? bash : `autoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
