namespace GroupPay.WeChatPay.Client;

/// <summary>Which layer a call failed in.</summary>
public enum WeChatPayErrorKind
{
    /// <summary>No usable HTTP answer: timeout, connection error, non-2xx status.</summary>
    Transport,

    /// <summary><c>return_code=FAIL</c>: WeChat refused the request itself (signature, format).</summary>
    Communication,

    /// <summary><c>result_code=FAIL</c>: the request was understood and the business rule said no.</summary>
    Business,

    /// <summary>An answer that cannot be trusted: bad signature, foreign appid/mch_id, malformed XML.</summary>
    InvalidResponse,
}

/// <summary>WeChat Pay v2 <c>err_code</c>s as a type (docs/wechatpay.md §2.4, §5), plus the client's own.</summary>
public enum WeChatPayErrorCode
{
    Unknown,
    SystemError,
    BizErrNeedRetry,
    OrderPaid,
    OrderClosed,
    OrderNotExist,
    OutTradeNoUsed,
    InvalidRequest,
    ParamError,
    LackParams,
    NoAuth,
    NotEnough,
    AppIdNotExist,
    MchIdNotExist,
    AppIdMchIdNotMatch,
    SignError,
    XmlFormatError,
    RequirePostMethod,
    PostDataEmpty,
    NotUtf8,
    TradeOverdue,
    Error,
    UserAccountAbnormal,
    InvalidReqTooMuch,
    InvalidTransactionId,
    RefundNotExist,
    FrequencyLimited,

    /// <summary>downloadbill: no trade that day, so no bill (<c>No Bill Exist</c>, error_code 20002).</summary>
    NoBillExist,

    /// <summary>downloadbill: the bill is not generated yet (<c>Bill Creating</c>; WeChat: after 09:00 the next day, ask after 10:00).</summary>
    BillCreating,

    /// <summary>The client's own: the call timed out.</summary>
    Timeout,

    /// <summary>The client's own: connection failure or a non-2xx status.</summary>
    HttpError,

    /// <summary>The client's own: an answer that failed verification.</summary>
    InvalidSignature,

    /// <summary>The client's own: an answer that could not be read.</summary>
    MalformedResponse,
}

/// <summary>Why a WeChat Pay call did not succeed. <see cref="IsRetryable"/> means WeChat says the same
/// request may be sent again (after the client's own bounded retries ran out).</summary>
public sealed record WeChatPayError(WeChatPayErrorKind Kind, WeChatPayErrorCode Code, string? RawCode, string? Message)
{
    public bool IsRetryable => Code is WeChatPayErrorCode.SystemError
        or WeChatPayErrorCode.BizErrNeedRetry
        or WeChatPayErrorCode.Timeout
        or WeChatPayErrorCode.HttpError
        or WeChatPayErrorCode.InvalidReqTooMuch
        or WeChatPayErrorCode.FrequencyLimited;

    public override string ToString() => $"{Kind}/{Code} ({RawCode}): {Message}";

    internal static WeChatPayErrorCode ParseCode(string? errCode) => errCode switch
    {
        "SYSTEMERROR" => WeChatPayErrorCode.SystemError,
        "BIZERR_NEED_RETRY" => WeChatPayErrorCode.BizErrNeedRetry,
        "ORDERPAID" => WeChatPayErrorCode.OrderPaid,
        "ORDERCLOSED" => WeChatPayErrorCode.OrderClosed,
        "ORDERNOTEXIST" => WeChatPayErrorCode.OrderNotExist,
        "OUT_TRADE_NO_USED" => WeChatPayErrorCode.OutTradeNoUsed,
        "INVALID_REQUEST" => WeChatPayErrorCode.InvalidRequest,
        "PARAM_ERROR" => WeChatPayErrorCode.ParamError,
        "LACK_PARAMS" => WeChatPayErrorCode.LackParams,
        "NOAUTH" => WeChatPayErrorCode.NoAuth,
        "NOTENOUGH" => WeChatPayErrorCode.NotEnough,
        "APPID_NOT_EXIST" => WeChatPayErrorCode.AppIdNotExist,
        "MCHID_NOT_EXIST" => WeChatPayErrorCode.MchIdNotExist,
        "APPID_MCHID_NOT_MATCH" => WeChatPayErrorCode.AppIdMchIdNotMatch,
        "SIGNERROR" => WeChatPayErrorCode.SignError,
        "XML_FORMAT_ERROR" => WeChatPayErrorCode.XmlFormatError,
        "REQUIRE_POST_METHOD" => WeChatPayErrorCode.RequirePostMethod,
        "POST_DATA_EMPTY" => WeChatPayErrorCode.PostDataEmpty,
        "NOT_UTF8" => WeChatPayErrorCode.NotUtf8,
        "TRADE_OVERDUE" => WeChatPayErrorCode.TradeOverdue,
        "ERROR" => WeChatPayErrorCode.Error,
        "USER_ACCOUNT_ABNORMAL" => WeChatPayErrorCode.UserAccountAbnormal,
        "INVALID_REQ_TOO_MUCH" => WeChatPayErrorCode.InvalidReqTooMuch,
        "INVALID_TRANSACTIONID" => WeChatPayErrorCode.InvalidTransactionId,
        "REFUNDNOTEXIST" => WeChatPayErrorCode.RefundNotExist,
        "FREQUENCY_LIMITED" => WeChatPayErrorCode.FrequencyLimited,
        _ => WeChatPayErrorCode.Unknown,
    };
}

/// <summary>The outcome of one WeChat Pay call: a value, or an error. Never both.</summary>
public sealed record WeChatPayResult<T>
    where T : class
{
    private WeChatPayResult(T? value, WeChatPayError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public WeChatPayError? Error { get; }

    public bool IsSuccess => Error is null;

    /// <summary>The value; throws when the call failed.</summary>
    public T GetValueOrThrow() =>
        Value ?? throw new InvalidOperationException($"WeChat Pay call failed: {Error}");

    public static WeChatPayResult<T> Success(T value) => new(value ?? throw new ArgumentNullException(nameof(value)), null);

    public static WeChatPayResult<T> Failure(WeChatPayError error) => new(null, error ?? throw new ArgumentNullException(nameof(error)));
}
