# bash completion for trashctl. The words come from trashctl itself: its hidden
# `__complete` command walks the command tree, so this file never needs to change
# when a command does. Installed as /usr/share/bash-completion/completions/trashctl.
_trashctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\n'
  local words
  words=$("${COMP_WORDS[0]}" __complete -- "$cur" "${COMP_WORDS[@]:1:COMP_CWORD-1}" \
    2>/dev/null) || return 0
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _trashctl trashctl
