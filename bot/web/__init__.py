"""The projector view: a read-only web page of a live drill, served by the bot's process."""
