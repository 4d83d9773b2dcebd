"$PRW" --version
