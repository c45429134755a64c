"""Importing customers, key persons, financial statements and relationships from .xlsx and .csv files.

`templates` defines the sheets and columns, `readers` reads files, `rows` validates and normalises each
row, `runner` applies the rows through the customer services.
"""
