"""Phone numbers: parse and normalise to E.164 with phonenumbers, format for display."""

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: Display formats offered in CRMSettings, mapped to phonenumbers' formats.
DISPLAY_FORMATS = {
    "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "national": phonenumbers.PhoneNumberFormat.NATIONAL,
    "e164": phonenumbers.PhoneNumberFormat.E164,
}


def normalize_phone(value, region=None):
    """Return ``value`` as an E.164 string, or raise ValidationError saying why it is not a number.

    Numbers without a leading ``+`` are read as numbers of ``region`` (an ISO 3166 code).
    """
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            message = _(
                "'%(value)s' has no country code: start it with + and the country code."
            ) % {"value": text}
        else:
            message = _("'%(value)s' is not a phone number.") % {"value": text}
        raise ValidationError(message, code="invalid_phone") from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("'%(value)s' is not a valid phone number for its country.") % {"value": text},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164, display_format="international"):
    """Format a stored E.164 number for display; anything unparsable is returned unchanged."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = DISPLAY_FORMATS.get(display_format, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


class PhoneNumberFormField(forms.CharField):
    """A text field that accepts a phone number and cleans it to E.164."""

    def __init__(self, *, region=None, **kwargs):
        self.region = region
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        if self.region is None:
            from .models.preferences import CRMSettings

            self.region = CRMSettings.get_phone_region()
        return normalize_phone(value, self.region)
