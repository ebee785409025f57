"""Pure computations ledger -> report model; renderers model -> html/pdf/xlsx/json."""
