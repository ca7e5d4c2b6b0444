"""The letter engine: sandboxed templates, Markdown, the letter layout and PDF rendering."""
