"""What NPCs can do: a registry of typed actions on the World (``registry``), the built-in verbs
(``builtin``), verbs declared by packs (``pack_actions``) and the decision format models must
produce (``decision``: GBNF grammar, JSON schema, parse and validate)."""
