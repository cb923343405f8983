from codemill.cli import app

app()
