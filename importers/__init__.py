"""Bank files -> normalised statements -> Beancount entries. Pure: never write."""
