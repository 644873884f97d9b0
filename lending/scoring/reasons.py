"""Reason codes of a credit decision, each with its message in English and in Urdu."""

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    """Why an application was declined, referred or scored down, or what it should note."""

    # Hard rules: any of these declines.
    CNIC_INVALID = "cnic_invalid"
    UNDER_AGE = "under_age"
    OVER_AGE_AT_MATURITY = "over_age_at_maturity"
    IMEI_IN_USE = "imei_in_use"
    ACTIVE_LOAN_EXISTS = "active_loan_exists"
    NO_INCOME = "no_income"
    DBR_ABOVE_CAP = "dbr_above_cap"
    DOWN_PAYMENT_BELOW_MINIMUM = "down_payment_below_minimum"
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    TENOR_NOT_ALLOWED = "tenor_not_allowed"
    BUREAU_OVERDUE_ACCOUNTS = "bureau_overdue_accounts"
    BUREAU_DELINQUENCY = "bureau_delinquency"
    # Conditions an underwriter must look at: any of these refers.
    BUREAU_UNAVAILABLE = "bureau_unavailable"
    DEVICE_UNKNOWN = "device_unknown"
    # Recorded with the decision, changes nothing.
    BUREAU_NOT_CONFIGURED = "bureau_not_configured"
    # Scorecard attributes where the applicant lost points (adverse reasons).
    AGE_RISK = "age_risk"
    LOW_INCOME = "low_income"
    HIGH_DBR = "high_dbr"
    EMPLOYMENT_RISK = "employment_risk"
    LOW_DOWN_PAYMENT = "low_down_payment"
    LONG_TENOR = "long_tenor"
    HIGH_PRICE_TO_INCOME = "high_price_to_income"
    THIN_HISTORY_WITH_US = "thin_history_with_us"
    LATE_PAYMENTS_WITH_US = "late_payments_with_us"
    SCORE_FACTOR = "score_factor"  # an attribute of a trained card with no code of its own


# (English, Urdu) templates; str.format fills the {names} and ignores values it does not use.
MESSAGES: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.CNIC_INVALID: (
        "The CNIC number is not valid.",
        "قومی شناختی کارڈ نمبر درست نہیں۔",
    ),
    ReasonCode.UNDER_AGE: (
        "The applicant must be at least {min_age} years old.",
        "درخواست دہندہ کی عمر کم از کم {min_age} سال ہونی چاہیے۔",
    ),
    ReasonCode.OVER_AGE_AT_MATURITY: (
        "The applicant would be over {max_age} when the last instalment falls due.",
        "آخری قسط کی تاریخ پر درخواست دہندہ کی عمر {max_age} سال سے زیادہ ہو گی۔",
    ),
    ReasonCode.IMEI_IN_USE: (
        "This phone's IMEI already secures an active loan.",
        "اس فون کا IMEI پہلے ہی ایک جاری قرض کی ضمانت ہے۔",
    ),
    ReasonCode.ACTIVE_LOAN_EXISTS: (
        "This CNIC already has an active phone loan: one financed phone at a time.",
        "اس شناختی کارڈ پر پہلے ہی ایک فون کی قسطیں جاری ہیں؛ ایک وقت میں صرف ایک فون۔",
    ),
    ReasonCode.NO_INCOME: (
        "The net monthly income must be above zero.",
        "ماہانہ خالص آمدنی صفر سے زیادہ ہونی چاہیے۔",
    ),
    ReasonCode.DBR_ABOVE_CAP: (
        "Instalments would take {dbr}% of income, above the {cap}% limit.",
        "اقساط آمدنی کا {dbr}% ہوں گی، جو {cap}% کی حد سے زیادہ ہے۔",
    ),
    ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM: (
        "The down payment is below the minimum of {min_pct}% of the price.",
        "پیشگی ادائیگی قیمت کے کم از کم {min_pct}% سے کم ہے۔",
    ),
    ReasonCode.PRICE_OUT_OF_RANGE: (
        "The phone's price must be between Rs {min_price} and Rs {max_price}.",
        "فون کی قیمت {min_price} روپے اور {max_price} روپے کے درمیان ہونی چاہیے۔",
    ),
    ReasonCode.TENOR_NOT_ALLOWED: (
        "{tenor} instalments are not offered with this product (offered: {allowed}).",
        "اس پروڈکٹ میں {tenor} اقساط کی سہولت نہیں (دستیاب: {allowed})۔",
    ),
    ReasonCode.BUREAU_OVERDUE_ACCOUNTS: (
        "The credit bureau shows {count} overdue account(s).",
        "کریڈٹ بیورو رپورٹ میں {count} کھاتوں کی ادائیگی واجب الادا ہے۔",
    ),
    ReasonCode.BUREAU_DELINQUENCY: (
        "The credit bureau shows payments {dpd} days late, more than {max_dpd} days.",
        "کریڈٹ بیورو رپورٹ میں ادائیگی {dpd} دن تاخیر سے ہوئی، جو {max_dpd} دن سے زیادہ ہے۔",
    ),
    ReasonCode.BUREAU_UNAVAILABLE: (
        "The credit bureau could not be reached: an underwriter will review the application.",
        "کریڈٹ بیورو سے رابطہ نہیں ہو سکا؛ انڈر رائٹر درخواست کا جائزہ لے گا۔",
    ),
    ReasonCode.DEVICE_UNKNOWN: (
        "The phone model is not in our device registry: an underwriter will review it.",
        "یہ فون ماڈل ہمارے ریکارڈ میں نہیں؛ انڈر رائٹر اس کا جائزہ لے گا۔",
    ),
    ReasonCode.BUREAU_NOT_CONFIGURED: (
        "No credit bureau is configured: decided without a credit bureau report.",
        "کوئی کریڈٹ بیورو منسلک نہیں؛ فیصلہ کریڈٹ بیورو رپورٹ کے بغیر کیا گیا۔",
    ),
    ReasonCode.AGE_RISK: (
        "Age group with a higher repayment risk.",
        "اس عمر کے گروپ میں ادائیگی کا خطرہ زیادہ ہے۔",
    ),
    ReasonCode.LOW_INCOME: (
        "Low monthly income.",
        "ماہانہ آمدنی کم ہے۔",
    ),
    ReasonCode.HIGH_DBR: (
        "Existing and new instalments take a large share of income.",
        "موجودہ اور نئی اقساط آمدنی کا بڑا حصہ ہیں۔",
    ),
    ReasonCode.EMPLOYMENT_RISK: (
        "Type of employment with less regular income.",
        "اس قسم کے روزگار میں آمدنی کم باقاعدہ ہوتی ہے۔",
    ),
    ReasonCode.LOW_DOWN_PAYMENT: (
        "The down payment is a small share of the price.",
        "پیشگی ادائیگی قیمت کا کم حصہ ہے۔",
    ),
    ReasonCode.LONG_TENOR: (
        "Long repayment period.",
        "ادائیگی کی مدت طویل ہے۔",
    ),
    ReasonCode.HIGH_PRICE_TO_INCOME: (
        "The phone's price is high compared with income.",
        "فون کی قیمت آمدنی کے مقابلے میں زیادہ ہے۔",
    ),
    ReasonCode.THIN_HISTORY_WITH_US: (
        "Few or no loans repaid with us.",
        "ہمارے ساتھ پہلے کم یا کوئی قرض ادا نہیں ہوا۔",
    ),
    ReasonCode.LATE_PAYMENTS_WITH_US: (
        "Late payments on earlier loans with us.",
        "ہمارے ساتھ پچھلے قرضوں کی ادائیگی میں تاخیر ہوئی۔",
    ),
    ReasonCode.SCORE_FACTOR: (
        "Lower score on {attribute}.",
        "{attribute} کی بنیاد پر اسکور کم ہے۔",
    ),
}


@dataclass(frozen=True)
class Reason:
    """A reason code with its message in English and in Urdu."""

    code: ReasonCode
    message_en: str
    message_ur: str

    def message(self, language: str = "en") -> str:
        """Return the message in `language` ("en" or "ur")."""
        return self.message_ur if language == "ur" else self.message_en

    def to_dict(self) -> dict[str, str]:
        """Return the reason as JSON-ready text: code, message (English), message_ur."""
        return {"code": str(self.code), "message": self.message_en, "message_ur": self.message_ur}


def reason(code: ReasonCode, **values: object) -> Reason:
    """Return the Reason for code, its message templates filled with values."""
    english, urdu = MESSAGES[code]
    return Reason(code, english.format(**values), urdu.format(**values))
