"""How a layout and a table format are read: discovery, and one subpackage per table format."""
