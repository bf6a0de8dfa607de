## Тексты Telegram-бота.
