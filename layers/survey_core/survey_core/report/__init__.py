"""The manager report: its configuration, statistics, content model, chart and workbook."""
