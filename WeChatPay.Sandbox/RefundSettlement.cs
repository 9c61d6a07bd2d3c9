using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// Moves refunds from PROCESSING to SUCCESS (or, with the <c>refundOutcomes</c> fault, REFUNDCLOSE or CHANGE) and then
/// sends the refund notify. A refund settles when
/// <c>Sandbox:RefundSettleDelay</c> × <c>TimeScale</c> of real time has passed, or, whichever comes first, when the
/// sandbox clock is <c>RefundSettleDelay</c> past the request (checked by queries). While the fault
/// <c>refundsStayProcessing</c> is on nothing settles; refunds held by it settle when it is cleared.
/// </summary>
internal sealed class RefundSettlement
{
    private readonly SandboxBackgroundWork _work;
    private readonly FaultInjection _faults;
    private readonly NotifyDispatcher _notifies;
    private readonly TimeProvider _clock;
    private readonly SandboxOptions _options;
    private readonly ConcurrentDictionary<SandboxRefund, byte> _held = new();

    public RefundSettlement(
        SandboxBackgroundWork work, FaultInjection faults, NotifyDispatcher notifies, TimeProvider clock, IOptions<SandboxOptions> options)
    {
        _work = work;
        _faults = faults;
        _notifies = notifies;
        _clock = clock;
        _options = options.Value;
        _faults.RefundsReleased += (_, _) => ReleaseHeld();
    }

    public void Schedule(SandboxRefund refund) => _work.Run(async cancellationToken =>
    {
        await Task.Delay(_options.Scale(_options.RefundSettleDelay), cancellationToken).ConfigureAwait(false);
        TrySettle(refund);
    });

    /// <summary>Settles the order's refunds whose settle delay has passed on the sandbox clock.</summary>
    public void SettleDue(SandboxOrder order)
    {
        var due = _clock.GetUtcNow() - _options.RefundSettleDelay;
        List<SandboxRefund> ready;
        lock (order.Gate)
        {
            ready = [.. order.Refunds.Where(r => r.Status == RefundStatus.Processing && r.RequestedAt <= due)];
        }
        foreach (var refund in ready)
        {
            TrySettle(refund);
        }
    }

    private void TrySettle(SandboxRefund refund)
    {
        if (_faults.RefundsStayProcessing)
        {
            _held.TryAdd(refund, 0);
            // The fault may have been cleared between the check and the add; then no release will see it.
            if (_faults.RefundsStayProcessing || !_held.TryRemove(refund, out _))
            {
                return;
            }
        }
        lock (refund.Order.Gate)
        {
            if (refund.Status != RefundStatus.Processing)
            {
                return;
            }
            var now = _clock.GetUtcNow();
            refund.Status = _faults.TakeRefundOutcome(refund.Order.OutTradeNo);
            refund.SettledAt = now;
            refund.SuccessAt = refund.Status == RefundStatus.Success ? now : null;
        }
        if (refund.NotifyUrl is not null)
        {
            _notifies.EnqueueRefund(refund);
        }
    }

    private void ReleaseHeld()
    {
        foreach (var refund in _held.Keys)
        {
            if (_held.TryRemove(refund, out _))
            {
                TrySettle(refund);
            }
        }
    }
}
