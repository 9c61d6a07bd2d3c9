using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

internal enum OrderState
{
    NotPay,
    Success,
    Closed,
}

/// <summary>What unifiedorder fixed for an order; re-entry must repeat <see cref="BusinessFields"/> exactly.</summary>
internal sealed record OrderTerms(
    string AppId,
    string MchId,
    string Body,
    string? Attach,
    string? DeviceInfo,
    long TotalFee,
    string TradeType,
    string? Openid,
    string NotifyUrl,
    DateTimeOffset? TimeExpire,
    IReadOnlyList<KeyValuePair<string, string>> BusinessFields)
{
    public bool SameBusinessFieldsAs(OrderTerms other) => BusinessFields.SequenceEqual(other.BusinessFields);
}

internal sealed record Prepay(string Id, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

internal sealed record Payment(
    string TransactionId,
    string PayerOpenid,
    DateTimeOffset PaidAt,
    long CashFee,
    long CouponFee,
    string? CouponId,
    bool PaidAfterClose);

/// <summary>
/// One merchant order. <see cref="Gate"/> guards every mutable member; take it for each read-modify-write
/// and for snapshots. Orders are independent, so there is no lock across orders.
/// </summary>
internal sealed class SandboxOrder
{
    private readonly List<SandboxRefund> _refunds = [];
    private readonly List<NotifyAttempt> _attempts = [];
    private int _notifyJobsInFlight;

    public SandboxOrder(string outTradeNo, OrderTerms terms, WeChatPaySignType signType, Prepay prepay, DateTimeOffset createdAt)
    {
        OutTradeNo = outTradeNo;
        Terms = terms;
        SignType = signType;
        Prepay = prepay;
        CreatedAt = createdAt;
    }

    public Lock Gate { get; } = new();

    public string OutTradeNo { get; }

    public OrderTerms Terms { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>The sign type of the latest unifiedorder call: paySign and the notify use it.</summary>
    public WeChatPaySignType SignType { get; set; }

    public Prepay Prepay { get; set; }

    /// <summary>The W3C trace context the latest unifiedorder call carried (its <c>traceparent</c> header), if any.</summary>
    public string? TraceParent { get; set; }

    public OrderState State { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    public Payment? Payment { get; set; }

    public IReadOnlyList<SandboxRefund> Refunds => _refunds;

    public IReadOnlyList<NotifyAttempt> Attempts => _attempts;

    public int NotifyJobsInFlight => Volatile.Read(ref _notifyJobsInFlight);

    /// <summary>NOTPAY, SUCCESS, REFUND (paid, with at least one refund) or CLOSED, as orderquery reports it.</summary>
    public string TradeState => State switch
    {
        OrderState.NotPay => "NOTPAY",
        OrderState.Closed => "CLOSED",
        _ when _refunds.Count > 0 => "REFUND",
        _ => "SUCCESS",
    };

    /// <summary>What the refunds that move money (PROCESSING or SUCCESS) take; a REFUNDCLOSE or CHANGE refund gives nothing back.</summary>
    public long RefundedFee => _refunds.Where(r => r.MovesMoney).Sum(r => r.RefundFee);

    /// <summary>The refunds that count toward WeChat's 50-per-order limit: all but the closed ones.</summary>
    public int OpenRefundCount => _refunds.Count(r => r.Status != RefundStatus.RefundClose);

    public void AddRefund(SandboxRefund refund) => _refunds.Add(refund);

    public void RecordAttempt(NotifyAttempt attempt)
    {
        lock (Gate)
        {
            _attempts.Add(attempt);
        }
    }

    public void NotifyJobStarted() => Interlocked.Increment(ref _notifyJobsInFlight);

    public void NotifyJobEnded() => Interlocked.Decrement(ref _notifyJobsInFlight);
}

internal enum RefundStatus
{
    Processing,
    Success,

    /// <summary>Closed: nothing was refunded; a new refund (new out_refund_no) may be made.</summary>
    RefundClose,

    /// <summary>Abnormal (the payer's card was invalid or frozen): nothing reached the payer; the merchant handles it by hand.</summary>
    Change,
}

/// <summary>One refund of an order; mutable members are guarded by the order's <see cref="SandboxOrder.Gate"/>.</summary>
internal sealed class SandboxRefund
{
    /// <summary><c>refund_request_source</c> of a refund made through <c>/secapi/pay/refund</c>.</summary>
    public const string ApiSource = "API";

    /// <summary><c>refund_request_source</c> of a refund made in the merchant console (商户平台).</summary>
    public const string ConsoleSource = "VENDOR_PLATFORM";

    public SandboxRefund(
        SandboxOrder order,
        string outRefundNo,
        string refundId,
        long refundFee,
        string refundAccount,
        string? notifyUrl,
        DateTimeOffset requestedAt,
        string requestSource = ApiSource)
    {
        Order = order;
        OutRefundNo = outRefundNo;
        RefundId = refundId;
        RefundFee = refundFee;
        RefundAccount = refundAccount;
        NotifyUrl = notifyUrl;
        RequestedAt = requestedAt;
        RequestSource = requestSource;
    }

    public SandboxOrder Order { get; }

    public string OutRefundNo { get; }

    public string RefundId { get; }

    public long RefundFee { get; }

    public string RefundAccount { get; }

    /// <summary>The request's notify_url, else <c>Sandbox:RefundNotifyUrl</c>; null = no refund notify.</summary>
    public string? NotifyUrl { get; }

    public DateTimeOffset RequestedAt { get; }

    public RefundStatus Status { get; set; }

    public DateTimeOffset? SuccessAt { get; set; }

    /// <summary>When the refund left PROCESSING, whatever it ended as.</summary>
    public DateTimeOffset? SettledAt { get; set; }

    /// <summary><see cref="ApiSource"/> or <see cref="ConsoleSource"/>.</summary>
    public string RequestSource { get; }

    public bool MovesMoney => Status is RefundStatus.Processing or RefundStatus.Success;

    public string StatusName => NameOf(Status);

    public static string NameOf(RefundStatus status) => status switch
    {
        RefundStatus.Success => "SUCCESS",
        RefundStatus.RefundClose => "REFUNDCLOSE",
        RefundStatus.Change => "CHANGE",
        _ => "PROCESSING",
    };
}

internal enum NotifyKind
{
    Payment,
    Refund,
}

/// <summary>
/// One delivery attempt of a notify, as recorded for <c>/sandbox/notifications</c>. <c>Trigger</c> is initial,
/// retry, concurrent, duplicate or redeliver; <c>Attempt</c> is 0 for the first try and n for the n-th retry.
/// </summary>
internal sealed record NotifyAttempt(
    string OutTradeNo,
    NotifyKind Kind,
    string? OutRefundNo,
    string Trigger,
    int Attempt,
    string Url,
    DateTimeOffset At,
    int? HttpStatus,
    bool Acked,
    bool Dropped,
    string? Error,
    string? Reply);
