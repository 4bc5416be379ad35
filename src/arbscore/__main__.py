"""``python -m arbscore``: the same command as the ``arbscore`` console script."""

from arbscore.cli import main

if __name__ == "__main__":
    main()
