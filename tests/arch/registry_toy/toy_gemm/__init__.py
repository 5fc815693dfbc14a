"""A machine added the way the README's "Bring your own machine" says: a folder
(config, model, cli_options, view, machine) and one registration call."""
