"""Start SilverGuard's Gradio app: `python app.py` (the UI lives in bot/web/app.py)."""

from bot.web.app import main

if __name__ == "__main__":
    main()
