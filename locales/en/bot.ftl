## Telegram bot text.
