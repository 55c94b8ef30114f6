"""Pure rules of cases: no Django, plain values and the business date."""
