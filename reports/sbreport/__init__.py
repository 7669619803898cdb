"""specbias reports: results files -> HTML and Markdown reports, comparisons, history."""
