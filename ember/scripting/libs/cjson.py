"""placeholder"""


def members(ctx) -> dict:
    """none"""
    return {}
