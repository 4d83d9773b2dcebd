# atlas --help names both subcommands and says what --src-addr from is for.
"$PRW" atlas --help | grep -c 'atlas cat FILE\|atlas stats FILE\|private'
"$PRW" --help | grep -c 'atlas'
