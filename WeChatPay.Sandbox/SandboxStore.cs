using System.Collections.Concurrent;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// All sandbox state, in memory: orders by out_trade_no, plus indexes by prepay_id, transaction_id,
/// out_refund_no and refund_id. Concurrent dictionaries for lookup, each order's own lock for changes.
/// </summary>
internal sealed class SandboxStore
{
    private readonly ConcurrentDictionary<string, SandboxOrder> _orders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxOrder> _byPrepayId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxOrder> _byTransactionId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxRefund> _refundsByOutRefundNo = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxRefund> _refundsById = new(StringComparer.Ordinal);

    public IEnumerable<SandboxOrder> Orders => _orders.Values;

    /// <summary>Adds <paramref name="order"/> unless its out_trade_no exists; returns the order that holds the number.</summary>
    public SandboxOrder AddOrGet(SandboxOrder order, out bool added)
    {
        var stored = _orders.GetOrAdd(order.OutTradeNo, order);
        added = ReferenceEquals(stored, order);
        if (added)
        {
            IndexPrepay(order, order.Prepay.Id);
        }
        return stored;
    }

    public SandboxOrder? FindOrder(string outTradeNo) => _orders.GetValueOrDefault(outTradeNo);

    public SandboxOrder? FindByPrepayId(string prepayId) => _byPrepayId.GetValueOrDefault(prepayId);

    public SandboxOrder? FindByTransactionId(string transactionId) => _byTransactionId.GetValueOrDefault(transactionId);

    /// <summary>transaction_id wins over out_trade_no, as in WeChat's query and refund APIs.</summary>
    public SandboxOrder? FindOrder(string? transactionId, string? outTradeNo) =>
        transactionId is { Length: > 0 } ? FindByTransactionId(transactionId)
        : outTradeNo is { Length: > 0 } ? FindOrder(outTradeNo)
        : null;

    public SandboxRefund? FindRefundByOutRefundNo(string outRefundNo) => _refundsByOutRefundNo.GetValueOrDefault(outRefundNo);

    public SandboxRefund? FindRefundById(string refundId) => _refundsById.GetValueOrDefault(refundId);

    public void IndexPrepay(SandboxOrder order, string prepayId) => _byPrepayId[prepayId] = order;

    /// <summary>Mints a transaction_id for <paramref name="order"/> and indexes it.</summary>
    public string MintTransactionId(SandboxOrder order, DateTimeOffset now)
    {
        var id = SandboxIds.NewTransactionId(now);
        _byTransactionId[id] = order;
        return id;
    }

    /// <summary>
    /// Claims <paramref name="refund"/>'s out_refund_no (unique per merchant) and indexes its refund_id;
    /// returns the refund that already held the number instead, if any.
    /// </summary>
    public SandboxRefund ClaimRefund(SandboxRefund refund)
    {
        var holder = _refundsByOutRefundNo.GetOrAdd(refund.OutRefundNo, refund);
        if (ReferenceEquals(holder, refund))
        {
            _refundsById[refund.RefundId] = refund;
        }
        return holder;
    }
}
