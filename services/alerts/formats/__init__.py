"""One module per sender's format; each turns a payload into `NormalisedAlert`s."""
