# Copyright (c) mmfactdiff contributors. All rights reserved.


def check_int(value, name: str, minimum: int = 0) -> int:
    """Return ``value`` if it is an int (not a bool) >= ``minimum``.

    Raises:
        ValueError: Naming the argument, the bound and the value given.
    """
    if isinstance(value, bool) or not isinstance(value, int) \
            or value < minimum:
        raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}')
    return value
