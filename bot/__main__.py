"""`python -m bot` is the `qunbot` command."""

from bot.cli.main import main

if __name__ == "__main__":
    main()
