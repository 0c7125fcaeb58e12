"""Reports: view models (plain dicts, JSON-ready), inline-SVG charts, and rendering to HTML, Markdown, JSON."""
