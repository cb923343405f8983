"""codemill: a team's git history and IDE feedback, streamed into a team-specific code model."""
