"""Case work (执法办案) under the Administrative Penalty Law (2021): the law as data."""
