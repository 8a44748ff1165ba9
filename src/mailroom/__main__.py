from mailroom.cli import main

if __name__ == "__main__":  # guarded: worker processes (spawn) import __main__ again
    raise SystemExit(main())
