"""What admin form tests post: inline formset rows, and pages as text."""


def html(response):
    return response.content.decode()


def formset(prefix, rows, initial=0):
    """POST data for an InlinePanel's formset: ``rows`` of field values, new unless given ids."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data[f"{prefix}-{index}-ORDER"] = str(index + 1)
        data[f"{prefix}-{index}-DELETE"] = ""
        data[f"{prefix}-{index}-id"] = ""
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data
