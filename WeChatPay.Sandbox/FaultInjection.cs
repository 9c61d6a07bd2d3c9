namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The merchant APIs (a SYSTEMERROR can be injected into all but downloadbill).</summary>
internal enum MerchantApi
{
    UnifiedOrder,
    OrderQuery,
    CloseOrder,
    Refund,
    RefundQuery,
    DownloadBill,
}

/// <summary>
/// Faults set through <c>/sandbox/faults</c>. One-shot faults are counters consumed with atomic
/// decrements, so the hot paths take no lock.
/// </summary>
internal sealed class FaultInjection
{
    private readonly int[] _systemErrors = new int[Enum.GetValues<MerchantApi>().Length];
    private int _duplicateNotifies;
    private int _concurrentNotifies;
    private int _dropNotifies;
    private long _couponFee;
    private long _notifyDelayTicks;
    private long _unifiedOrderDelayTicks;
    private int _refundsStayProcessing;
    private int _refundCloses;
    private int _refundChanges;
    private int _refundErrors;
    private string _refundErrorCode = "";
    private int _payOnClose;
    private int _officialAccountErrors;
    private string? _refundFaultsFor;

    /// <summary>Raised when <c>refundsStayProcessing</c> goes from on to off.</summary>
    public event EventHandler? RefundsReleased;

    public bool RefundsStayProcessing => Volatile.Read(ref _refundsStayProcessing) != 0;

    /// <summary>Delay before the first delivery of every notify (real time, not scaled).</summary>
    public TimeSpan NotifyDelay => TimeSpan.FromTicks(Interlocked.Read(ref _notifyDelayTicks));

    /// <summary>How long every unifiedorder call waits before it is answered (real time, not scaled): a slow WeChat.</summary>
    public TimeSpan UnifiedOrderDelay => TimeSpan.FromTicks(Interlocked.Read(ref _unifiedOrderDelayTicks));

    public bool TryConsumeSystemError(MerchantApi api) => TryConsume(ref _systemErrors[(int)api]);

    public bool TryConsumeDrop() => TryConsume(ref _dropNotifies);

    public int TakeDuplicateNotifies() => Interlocked.Exchange(ref _duplicateNotifies, 0);

    public int TakeConcurrentNotifies() => Interlocked.Exchange(ref _concurrentNotifies, 0);

    public long TakeCouponFee() => Interlocked.Exchange(ref _couponFee, 0);

    public bool TryConsumePayOnClose() => TryConsume(ref _payOnClose);

    /// <summary>The next <c>cgi-bin/token</c> or <c>cgi-bin/ticket/getticket</c> call answers errcode -1 (系统繁忙).</summary>
    public bool TryConsumeOfficialAccountError() => TryConsume(ref _officialAccountErrors);

    /// <summary>How the next refund of <paramref name="outTradeNo"/> to settle ends: REFUNDCLOSE while those are armed,
    /// then CHANGE, else SUCCESS (with <c>refundFaultsFor</c> set, only that order's refunds are affected).</summary>
    public RefundStatus TakeRefundOutcome(string outTradeNo) =>
        !AppliesTo(outTradeNo) ? RefundStatus.Success
        : TryConsume(ref _refundCloses) ? RefundStatus.RefundClose
        : TryConsume(ref _refundChanges) ? RefundStatus.Change
        : RefundStatus.Success;

    /// <summary>The err_code the next refund call for <paramref name="outTradeNo"/> answers with, when <c>refundErrors</c> is armed.</summary>
    public bool TryConsumeRefundError(string? outTradeNo, out string code)
    {
        code = Volatile.Read(ref _refundErrorCode);
        return AppliesTo(outTradeNo) && TryConsume(ref _refundErrors);
    }

    private bool AppliesTo(string? outTradeNo) => Volatile.Read(ref _refundFaultsFor) is not { } only || only == outTradeNo;

    public void Apply(FaultSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SetIf(ref _duplicateNotifies, settings.DuplicateNotifies);
        SetIf(ref _concurrentNotifies, settings.ConcurrentNotifies);
        SetIf(ref _dropNotifies, settings.DropNotifies);
        if (settings.NotifyDelaySeconds is { } seconds)
        {
            Interlocked.Exchange(ref _notifyDelayTicks, TimeSpan.FromSeconds(seconds).Ticks);
        }
        if (settings.UnifiedorderDelaySeconds is { } unifiedOrderSeconds)
        {
            Interlocked.Exchange(ref _unifiedOrderDelayTicks, TimeSpan.FromSeconds(unifiedOrderSeconds).Ticks);
        }
        if (settings.CouponOnNextNotify is { } coupon)
        {
            Interlocked.Exchange(ref _couponFee, coupon.CouponFee);
        }
        if (settings.SystemErrors is { } errors)
        {
            SetIf(ref _systemErrors[(int)MerchantApi.UnifiedOrder], errors.Unifiedorder);
            SetIf(ref _systemErrors[(int)MerchantApi.OrderQuery], errors.Orderquery);
            SetIf(ref _systemErrors[(int)MerchantApi.CloseOrder], errors.Closeorder);
            SetIf(ref _systemErrors[(int)MerchantApi.Refund], errors.Refund);
            SetIf(ref _systemErrors[(int)MerchantApi.RefundQuery], errors.Refundquery);
            SetIf(ref _systemErrors[(int)MerchantApi.DownloadBill], errors.Downloadbill);
        }
        if (settings.RefundsStayProcessing is { } stay)
        {
            SetRefundsStayProcessing(stay);
        }
        if (settings.RefundFaultsFor is { } only)
        {
            Volatile.Write(ref _refundFaultsFor, only.Length == 0 ? null : only);
        }
        if (settings.RefundOutcomes is { } outcomes)
        {
            SetIf(ref _refundCloses, outcomes.RefundClose);
            SetIf(ref _refundChanges, outcomes.Change);
        }
        if (settings.RefundErrors is { } refundErrors)
        {
            Volatile.Write(ref _refundErrorCode, refundErrors.Code!);
            Interlocked.Exchange(ref _refundErrors, refundErrors.Count);
        }
        SetIf(ref _payOnClose, settings.PayOnClose);
        SetIf(ref _officialAccountErrors, settings.OfficialAccountErrors);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _duplicateNotifies, 0);
        Interlocked.Exchange(ref _concurrentNotifies, 0);
        Interlocked.Exchange(ref _dropNotifies, 0);
        Interlocked.Exchange(ref _notifyDelayTicks, 0);
        Interlocked.Exchange(ref _unifiedOrderDelayTicks, 0);
        Interlocked.Exchange(ref _couponFee, 0);
        for (var i = 0; i < _systemErrors.Length; i++)
        {
            Interlocked.Exchange(ref _systemErrors[i], 0);
        }
        Interlocked.Exchange(ref _refundCloses, 0);
        Interlocked.Exchange(ref _refundChanges, 0);
        Interlocked.Exchange(ref _refundErrors, 0);
        Interlocked.Exchange(ref _payOnClose, 0);
        Interlocked.Exchange(ref _officialAccountErrors, 0);
        Volatile.Write(ref _refundFaultsFor, null);
        SetRefundsStayProcessing(false);
    }

    public FaultSettings Snapshot() => new()
    {
        RefundFaultsFor = Volatile.Read(ref _refundFaultsFor),
        DuplicateNotifies = Volatile.Read(ref _duplicateNotifies),
        ConcurrentNotifies = Volatile.Read(ref _concurrentNotifies),
        DropNotifies = Volatile.Read(ref _dropNotifies),
        NotifyDelaySeconds = NotifyDelay.TotalSeconds,
        UnifiedorderDelaySeconds = UnifiedOrderDelay.TotalSeconds,
        RefundsStayProcessing = RefundsStayProcessing,
        CouponOnNextNotify = Interlocked.Read(ref _couponFee) is > 0 and var fee ? new CouponFault { CouponFee = fee } : null,
        SystemErrors = new SystemErrorFaults
        {
            Unifiedorder = Volatile.Read(ref _systemErrors[(int)MerchantApi.UnifiedOrder]),
            Orderquery = Volatile.Read(ref _systemErrors[(int)MerchantApi.OrderQuery]),
            Closeorder = Volatile.Read(ref _systemErrors[(int)MerchantApi.CloseOrder]),
            Refund = Volatile.Read(ref _systemErrors[(int)MerchantApi.Refund]),
            Refundquery = Volatile.Read(ref _systemErrors[(int)MerchantApi.RefundQuery]),
            Downloadbill = Volatile.Read(ref _systemErrors[(int)MerchantApi.DownloadBill]),
        },
        RefundOutcomes = new RefundOutcomeFaults { RefundClose = Volatile.Read(ref _refundCloses), Change = Volatile.Read(ref _refundChanges) },
        RefundErrors = Volatile.Read(ref _refundErrors) is > 0 and var count ? new RefundErrorFault { Code = Volatile.Read(ref _refundErrorCode), Count = count } : null,
        PayOnClose = Volatile.Read(ref _payOnClose),
        OfficialAccountErrors = Volatile.Read(ref _officialAccountErrors),
    };

    private void SetRefundsStayProcessing(bool stay)
    {
        var was = Interlocked.Exchange(ref _refundsStayProcessing, stay ? 1 : 0) != 0;
        if (was && !stay)
        {
            RefundsReleased?.Invoke(this, EventArgs.Empty);
        }
    }

    private static void SetIf(ref int field, int? value)
    {
        if (value is { } v)
        {
            Interlocked.Exchange(ref field, v);
        }
    }

    private static bool TryConsume(ref int counter)
    {
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}

/// <summary>The JSON of <c>POST /sandbox/faults</c> (every member optional; absent = unchanged) and of its answer.</summary>
internal sealed class FaultSettings
{
    /// <summary>The next paid order's notify is delivered this many extra times, sequentially, even after the ack.</summary>
    public int? DuplicateNotifies { get; set; }

    /// <summary>The next paid order's first delivery is sent this many times in parallel.</summary>
    public int? ConcurrentNotifies { get; set; }

    /// <summary>Real seconds before the first delivery of every notify (0 = none).</summary>
    public double? NotifyDelaySeconds { get; set; }

    /// <summary>Real seconds every unifiedorder call waits before it is answered (0 = none).</summary>
    public double? UnifiedorderDelaySeconds { get; set; }

    /// <summary>The next N delivery attempts are not sent and count as failed.</summary>
    public int? DropNotifies { get; set; }

    public SystemErrorFaults? SystemErrors { get; set; }

    public bool? RefundsStayProcessing { get; set; }

    public CouponFault? CouponOnNextNotify { get; set; }

    public RefundOutcomeFaults? RefundOutcomes { get; set; }

    public RefundErrorFault? RefundErrors { get; set; }

    /// <summary>When set, <see cref="RefundOutcomes"/> and <see cref="RefundErrors"/> apply only to refunds of this
    /// out_trade_no ("" = any order again).</summary>
    public string? RefundFaultsFor { get; set; }

    /// <summary>The next N closeorder calls for an unpaid order pay it first (the payer confirmed at that instant), then answer ORDERPAID.</summary>
    public int? PayOnClose { get; set; }

    /// <summary>The next this many official-account calls (<c>cgi-bin/token</c>, <c>getticket</c>) answer errcode -1.</summary>
    public int? OfficialAccountErrors { get; set; }

    /// <summary>The problems with these settings, keyed by JSON member; empty when they can be applied.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Check(errors, "duplicateNotifies", DuplicateNotifies, 100);
        Check(errors, "concurrentNotifies", ConcurrentNotifies, 100);
        Check(errors, "dropNotifies", DropNotifies, 10_000);
        if (NotifyDelaySeconds is { } delay && !(delay >= 0 && delay <= 86_400))
        {
            errors["notifyDelaySeconds"] = ["must be between 0 and 86400"];
        }
        if (UnifiedorderDelaySeconds is { } unifiedOrderDelay && !(unifiedOrderDelay >= 0 && unifiedOrderDelay <= 600))
        {
            errors["unifiedorderDelaySeconds"] = ["must be between 0 and 600"];
        }
        if (CouponOnNextNotify is { CouponFee: < 0 })
        {
            errors["couponOnNextNotify.couponFee"] = ["must not be negative"];
        }
        if (SystemErrors is { } s)
        {
            Check(errors, "systemErrors.unifiedorder", s.Unifiedorder, 10_000);
            Check(errors, "systemErrors.orderquery", s.Orderquery, 10_000);
            Check(errors, "systemErrors.closeorder", s.Closeorder, 10_000);
            Check(errors, "systemErrors.refund", s.Refund, 10_000);
            Check(errors, "systemErrors.refundquery", s.Refundquery, 10_000);
            Check(errors, "systemErrors.downloadbill", s.Downloadbill, 10_000);
        }
        if (RefundOutcomes is { } outcomes)
        {
            Check(errors, "refundOutcomes.refundClose", outcomes.RefundClose, 10_000);
            Check(errors, "refundOutcomes.change", outcomes.Change, 10_000);
        }
        if (RefundErrors is { } refundErrors)
        {
            if (refundErrors.Code is null || !RefundApi.InjectableErrors.ContainsKey(refundErrors.Code))
            {
                errors["refundErrors.code"] = [$"must be one of {string.Join(", ", RefundApi.InjectableErrors.Keys)}"];
            }
            Check(errors, "refundErrors.count", refundErrors.Count, 10_000);
        }
        Check(errors, "payOnClose", PayOnClose, 10_000);
        Check(errors, "officialAccountErrors", OfficialAccountErrors, 10_000);
        return errors;
    }

    private static void Check(Dictionary<string, string[]> errors, string name, int? value, int max)
    {
        if (value is { } v && (v < 0 || v > max))
        {
            errors[name] = [$"must be between 0 and {max}"];
        }
    }
}

/// <summary>How many of the next calls of each API answer SYSTEMERROR.</summary>
internal sealed class SystemErrorFaults
{
    public int? Unifiedorder { get; set; }

    public int? Orderquery { get; set; }

    public int? Closeorder { get; set; }

    public int? Refund { get; set; }

    public int? Refundquery { get; set; }

    /// <summary>downloadbill answers as WeChat does when it fails to give the bill: <c>return_code=FAIL</c>, <c>SYSTEMERROR</c>.</summary>
    public int? Downloadbill { get; set; }
}

/// <summary>A coupon applied to the next paid order: cash_fee = total_fee − coupon_fee.</summary>
internal sealed class CouponFault
{
    public long CouponFee { get; set; }
}

/// <summary>How many of the next refunds to settle end REFUNDCLOSE, then CHANGE, instead of SUCCESS.</summary>
internal sealed class RefundOutcomeFaults
{
    public int? RefundClose { get; set; }

    public int? Change { get; set; }
}

/// <summary>The next <see cref="Count"/> refund calls answer result_code FAIL with <see cref="Code"/>; nothing is recorded.</summary>
internal sealed class RefundErrorFault
{
    public string? Code { get; set; }

    public int Count { get; set; }
}
