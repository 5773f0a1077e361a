"""The command groups of ``tongban hub`` beside hub/cli.py's own: staff accounts and saved
methodologies (staff.py).  Above the features, so no feature imports the app or a command."""
