"""DuraChat's look in one place: design tokens, the stylesheet made from them, icons."""
