"""stub"""


def register(app) -> None:
    return None
