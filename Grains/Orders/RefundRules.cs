using GroupPay.WeChatPay.Client;

namespace GroupPay.Grains.Orders;

/// <summary>What GroupPay does next with a refund, given WeChat's answer.</summary>
public enum RefundStep
{
    /// <summary>WeChat took the request (or says the same number may be sent again): wait, or send it again.</summary>
    RetrySameNumber,

    /// <summary>The refund under this number is closed (REFUNDCLOSE): ask again under the payment's next number.</summary>
    NextNumber,

    /// <summary>Nothing GroupPay can send will move it: a person must (the operator queue).</summary>
    Escalate,
}

/// <summary>
/// The refund rules of docs/wechatpay.md §5.3–5.5 as plain functions: which of WeChat's answers are safe to retry with the
/// same out_refund_no, which are closed for good under that number, and which need a person. Retries are bounded by
/// <see cref="OrderOptions.MaxRefundTries"/> and <see cref="OrderOptions.MaxRefundNumbers"/>; past them a refund
/// escalates, so no refund retries forever in silence.
/// </summary>
public static class RefundRules
{
    /// <summary>After <c>/secapi/pay/refund</c> failed with <paramref name="code"/>.</summary>
    public static RefundStep AfterRefundError(WeChatPayErrorCode code) => code switch
    {
        // WeChat: retry with the same out_refund_no (it is the same refund, never refunded twice); transport failures
        // and unverifiable answers leave the outcome unknown, and the same number is the safe way to find out.
        WeChatPayErrorCode.SystemError or WeChatPayErrorCode.BizErrNeedRetry or WeChatPayErrorCode.InvalidReqTooMuch
            or WeChatPayErrorCode.FrequencyLimited or WeChatPayErrorCode.Timeout or WeChatPayErrorCode.HttpError
            or WeChatPayErrorCode.InvalidSignature or WeChatPayErrorCode.MalformedResponse => RefundStep.RetrySameNumber,
        // NOTENOUGH (merchant balance), USER_ACCOUNT_ABNORMAL (refund offline), TRADE_OVERDUE (over a year), ERROR
        // (e.g. already refunded in full), ORDERNOTEXIST, parameter and signature errors: sending it again changes nothing.
        _ => RefundStep.Escalate,
    };

    /// <summary>After WeChat reported the refund's state (refund query or notify).</summary>
    public static RefundStep AfterRefundState(RefundState state) => state switch
    {
        RefundState.Closed => RefundStep.NextNumber,
        RefundState.Abnormal => RefundStep.Escalate,
        _ => RefundStep.RetrySameNumber,
    };

    /// <summary>Whether a failed refund call may be tried again under the same number: retry-safe and under the bound.</summary>
    public static bool MayRetry(WeChatPayErrorCode code, int failedTries, int maxTries) =>
        AfterRefundError(code) == RefundStep.RetrySameNumber && failedTries < maxTries;

    /// <summary>Whether a closed refund may be asked again under a new number: under the bound of numbers per payment.</summary>
    public static bool MayUseNextNumber(int sequence, int maxNumbers) => sequence < maxNumbers;
}
