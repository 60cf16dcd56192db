"""The Telegram adapter: python-telegram-bot handlers that translate between people and the services."""
