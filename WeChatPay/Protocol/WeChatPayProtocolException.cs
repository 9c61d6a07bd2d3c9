namespace GroupPay.WeChatPay.Protocol;

/// <summary>Why a WeChat Pay message was refused; stable names for logs and metrics.</summary>
public enum WeChatPayRejectReason
{
    Malformed,
    Oversize,
    DtdProhibited,
    MissingField,
    InvalidField,
    ReturnCodeFail,
    AppIdMismatch,
    MchIdMismatch,
    UnsupportedSignType,
    BadSignature,
    DecryptionFailed,
}

/// <summary>A WeChat Pay message that cannot be trusted or understood: malformed XML, a DTD, an oversize
/// body, a missing or malformed field, a foreign merchant, a bad signature.</summary>
public class WeChatPayProtocolException : Exception
{
    public WeChatPayProtocolException()
        : this(WeChatPayRejectReason.Malformed, "Malformed WeChat Pay message.")
    {
    }

    public WeChatPayProtocolException(string message)
        : this(WeChatPayRejectReason.Malformed, message)
    {
    }

    public WeChatPayProtocolException(string message, Exception innerException)
        : this(WeChatPayRejectReason.Malformed, message, innerException)
    {
    }

    public WeChatPayProtocolException(WeChatPayRejectReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public WeChatPayRejectReason Reason { get; }
}
