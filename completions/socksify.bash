# bash completion for socksify(1). Installed as
# share/bash-completion/completions/socksify.

_socksify()
{
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-f | --config)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-x | --proxy | --probe)
		COMPREPLY=($(compgen -W 'socks5h:// socks5:// socks4a:// socks4:// http://' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return
		;;
	--shell)
		COMPREPLY=($(compgen -W 'on off' -- "$cur"))
		return
		;;
	--explain | --target)
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		return
		;;
	esac

	# After the first word that is not an option (or after --), complete
	# the command being run and its own arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-x | --proxy | -f | --config | --probe | --explain | --shell | --target)
			((i++))
			;;
		--)
			if declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1))
			else
				COMPREPLY=($(compgen -c -- "$cur"))
			fi
			return
			;;
		-*) ;;
		doctor)
			COMPREPLY=($(compgen -W '-x --proxy -f --config --target --json' -- "$cur"))
			return
			;;
		*)
			if declare -F _command_offset >/dev/null; then
				_command_offset "$i"
			else
				COMPREPLY=($(compgen -c -- "$cur"))
			fi
			return
			;;
		esac
	done

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-x --proxy -f --config -q --quiet -v
			--verbose --shell --probe --explain --help --version --' -- "$cur"))
	else
		COMPREPLY=($(compgen -c -W 'show doctor' -- "$cur"))
	fi
}
complete -F _socksify socksify
