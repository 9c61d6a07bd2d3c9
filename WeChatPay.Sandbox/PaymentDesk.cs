namespace GroupPay.WeChatPay.Sandbox;

internal enum PayOutcome
{
    Paid,
    AlreadyPaid,
    Closed,
}

/// <summary>Marks orders paid (from the cashier or the control API) and queues their payment notify.</summary>
internal sealed class PaymentDesk(SandboxStore store, FaultInjection faults, NotifyDispatcher notifies, TimeProvider clock)
{
    /// <summary>
    /// Pays <paramref name="order"/> as <paramref name="payerOpenid"/>. A closed order is paid only when
    /// <paramref name="evenIfClosed"/> (WeChat has been seen to report payment after a close). The coupon fault,
    /// when armed, is spent here.
    /// </summary>
    public PayOutcome Pay(SandboxOrder order, string payerOpenid, bool evenIfClosed, out Payment? payment)
    {
        payment = null;
        lock (order.Gate)
        {
            if (order.State == OrderState.Success)
            {
                return PayOutcome.AlreadyPaid;
            }
            if (order.State == OrderState.Closed && !evenIfClosed)
            {
                return PayOutcome.Closed;
            }
            var now = clock.GetUtcNow();
            var total = order.Terms.TotalFee;
            var coupon = Math.Min(faults.TakeCouponFee(), total);
            payment = new Payment(
                store.MintTransactionId(order, now),
                payerOpenid,
                now,
                CashFee: total - coupon,
                CouponFee: coupon,
                CouponId: coupon > 0 ? SandboxIds.NewCouponId() : null,
                PaidAfterClose: order.State == OrderState.Closed);
            order.Payment = payment;
            order.State = OrderState.Success;
        }
        notifies.EnqueuePayment(order);
        return PayOutcome.Paid;
    }
}
