using System.Globalization;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// <c>/secapi/pay/refund</c> and <c>/pay/refundquery</c> (docs/wechatpay.md §5.3, §5.4). The sandbox does not
/// require the client certificate WeChat demands on <c>/secapi/</c>.
/// </summary>
internal sealed class RefundApi(
    SandboxStore store, RefundSettlement settlement, FaultInjection faults, TimeProvider clock, IOptions<SandboxOptions> options)
{
    public const string DefaultRefundAccount = "REFUND_SOURCE_RECHARGE_FUNDS";
    public const string RefundRecvAccount = "支付用户的零钱";

    /// <summary>WeChat allows at most 50 partial refunds per order.</summary>
    public const int MaxRefundsPerOrder = 50;

    /// <summary>refundquery lists at most this many refunds per page (<c>offset</c> pages further).</summary>
    public const int PageSize = 10;

    /// <summary>The refund err_codes <c>refundErrors</c> can inject, with WeChat's err_code_des.</summary>
    public static IReadOnlyDictionary<string, string> InjectableErrors { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["NOTENOUGH"] = "基本账户余额不足，请充值后重新发起",
        ["USER_ACCOUNT_ABNORMAL"] = "退款请求失败，用户帐号注销",
        ["TRADE_OVERDUE"] = "订单已经超过退款期限",
        ["ERROR"] = "申请退款业务发生错误",
        ["INVALID_REQ_TOO_MUCH"] = "无效请求过多",
        ["BIZERR_NEED_RETRY"] = "退款业务流程错误，需要商户触发重试来解决",
        ["FREQUENCY_LIMITED"] = "频率限制",
    };

    private readonly SandboxOptions _options = options.Value;

    public MerchantReply Refund(MerchantRequest request)
    {
        if (ValidateRefund(request) is { } invalid)
        {
            return invalid;
        }
        var refunded = store.FindOrder(request["transaction_id"], request["out_trade_no"]);
        if (faults.TryConsumeRefundError(refunded?.OutTradeNo ?? request["out_trade_no"], out var injected))
        {
            return MerchantReply.Fail(injected, InjectableErrors[injected]);
        }
        var outRefundNo = request["out_refund_no"]!;
        var totalFee = long.Parse(request["total_fee"]!, CultureInfo.InvariantCulture);
        var refundFee = long.Parse(request["refund_fee"]!, CultureInfo.InvariantCulture);
        if (store.FindOrder(request["transaction_id"], request["out_trade_no"]) is not { } order)
        {
            return MerchantReply.Fail("ORDERNOTEXIST", MerchantMessages.OrderNotExist);
        }
        var now = clock.GetUtcNow();
        SandboxRefund refund;
        lock (order.Gate)
        {
            if (order.State != OrderState.Success)
            {
                return MerchantReply.Fail("ORDERNOTEXIST", "订单未支付，不能退款");
            }
            if (store.FindRefundByOutRefundNo(outRefundNo) is { } existing)
            {
                return SameRefund(existing, order, totalFee, refundFee);
            }
            if (totalFee != order.Terms.TotalFee)
            {
                return MerchantReply.Fail("INVALID_REQUEST", "订单金额total_fee与原订单金额不一致");
            }
            if (RefuseAmount(order, refundFee) is { } refused)
            {
                return MerchantReply.Fail("ERROR", refused);
            }
            var candidate = new SandboxRefund(
                order,
                outRefundNo,
                SandboxIds.NewRefundId(now),
                refundFee,
                request["refund_account"] ?? DefaultRefundAccount,
                request["notify_url"] ?? _options.RefundNotifyUrl,
                now);
            refund = store.ClaimRefund(candidate);
            if (!ReferenceEquals(refund, candidate))
            {
                return SameRefund(refund, order, totalFee, refundFee);
            }
            order.AddRefund(refund);
        }
        settlement.Schedule(refund);
        return RefundReply(refund);
    }

    /// <summary>
    /// A refund made in the merchant console (商户平台): WeChat numbers it itself (no merchant out_refund_no exists,
    /// so the sandbox uses the refund_id; the docs found do not say what WeChat puts there), marks it
    /// <c>VENDOR_PLATFORM</c> and notifies the configured refund URL. Null <paramref name="refundFee"/> = all not yet refunded.
    /// </summary>
    public SandboxRefund? ConsoleRefund(SandboxOrder order, long? refundFee, out string? refusal)
    {
        var now = clock.GetUtcNow();
        SandboxRefund refund;
        lock (order.Gate)
        {
            var fee = refundFee ?? order.Terms.TotalFee - order.RefundedFee;
            refusal = order.State != OrderState.Success ? "The order is not paid."
                : fee <= 0 ? "Nothing is left to refund."
                : RefuseAmount(order, fee);
            if (refusal is not null)
            {
                return null;
            }
            var refundId = SandboxIds.NewRefundId(now);
            refund = store.ClaimRefund(new SandboxRefund(
                order, refundId, refundId, fee, DefaultRefundAccount, _options.RefundNotifyUrl, now, SandboxRefund.ConsoleSource));
            order.AddRefund(refund);
        }
        settlement.Schedule(refund);
        return refund;
    }

    public MerchantReply RefundQuery(MerchantRequest request)
    {
        SandboxOrder? order;
        IReadOnlyList<SandboxRefund>? only = null;
        if (request["refund_id"] is { } refundId)
        {
            only = store.FindRefundById(refundId) is { } r ? [r] : null;
            order = only?[0].Order;
        }
        else if (request["out_refund_no"] is { } outRefundNo)
        {
            only = store.FindRefundByOutRefundNo(outRefundNo) is { } r ? [r] : null;
            order = only?[0].Order;
        }
        else if (request["transaction_id"] is null && request["out_trade_no"] is null)
        {
            return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing("refund_id、out_refund_no、transaction_id或out_trade_no"));
        }
        else
        {
            order = store.FindOrder(request["transaction_id"], request["out_trade_no"]);
        }
        var offset = 0;
        if (request["offset"] is { } offsetText && !int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("offset"));
        }
        if (order is null)
        {
            return RefundNotExist();
        }
        settlement.SettleDue(order);
        lock (order.Gate)
        {
            var all = only ?? order.Refunds;
            var page = all.Skip(offset).Take(PageSize).ToList();
            if (page.Count == 0 || order.Payment is not { } payment)
            {
                return RefundNotExist();
            }
            var fields = new List<KeyValuePair<string, string?>>
            {
                new("transaction_id", payment.TransactionId),
                new("out_trade_no", order.OutTradeNo),
                new("total_fee", PayApi.Fen(order.Terms.TotalFee)),
                new("fee_type", "CNY"),
                new("cash_fee", PayApi.Fen(payment.CashFee)),
                new("refund_count", PayApi.Fen(page.Count)),
            };
            if (request["offset"] is not null)
            {
                fields.Add(new("total_refund_count", PayApi.Fen(all.Count)));
            }
            for (var n = 0; n < page.Count; n++)
            {
                var refund = page[n];
                var suffix = "_" + n.ToString(CultureInfo.InvariantCulture);
                fields.Add(new("out_refund_no" + suffix, refund.OutRefundNo));
                fields.Add(new("refund_id" + suffix, refund.RefundId));
                fields.Add(new("refund_channel" + suffix, "ORIGINAL"));
                fields.Add(new("refund_fee" + suffix, PayApi.Fen(refund.RefundFee)));
                fields.Add(new("refund_status" + suffix, refund.StatusName));
                fields.Add(new("refund_account" + suffix, refund.RefundAccount));
                fields.Add(new("refund_recv_accout" + suffix, RefundRecvAccount));
                fields.Add(new("refund_success_time" + suffix, refund.SuccessAt is { } at ? WeChatPayTime.FormatDashed(at) : null));
            }
            return MerchantReply.Success(fields);
        }
    }

    private static MerchantReply? ValidateRefund(MerchantRequest request)
    {
        foreach (var field in (string[])["out_refund_no", "total_fee", "refund_fee"])
        {
            if (request[field] is null)
            {
                return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing(field));
            }
        }
        if (request["transaction_id"] is null && request["out_trade_no"] is null)
        {
            return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing("transaction_id或out_trade_no"));
        }
        if (!MerchantRules.IsOutRefundNo(request["out_refund_no"]!))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("out_refund_no"));
        }
        foreach (var field in (string[])["total_fee", "refund_fee"])
        {
            if (!MerchantRules.TryParseFee(request[field], out _))
            {
                return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat(field));
            }
        }
        if (request["notify_url"] is { } notifyUrl && !MerchantRules.IsNotifyUrl(notifyUrl))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("notify_url"));
        }
        if (request["refund_fee_type"] is { } feeType && feeType != "CNY")
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("refund_fee_type"));
        }
        if (request["refund_account"] is { } account && account is not ("REFUND_SOURCE_UNSETTLED_FUNDS" or "REFUND_SOURCE_RECHARGE_FUNDS"))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("refund_account"));
        }
        if (request["refund_desc"] is { } desc && !MerchantRules.IsText(desc, 80))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("refund_desc"));
        }
        return null;
    }

    /// <summary>WeChat's refusal of <paramref name="refundFee"/> more for <paramref name="order"/>, if any (the caller holds its lock).
    /// Closed and abnormal refunds gave nothing back, so they neither count toward the paid amount nor, closed, toward the 50.</summary>
    private static string? RefuseAmount(SandboxOrder order, long refundFee) =>
        order.RefundedFee + refundFee > order.Terms.TotalFee ? "退款金额大于支付金额"
        : order.OpenRefundCount >= MaxRefundsPerOrder ? "部分退款次数超过上限"
        : null;

    /// <summary>A repeated out_refund_no: the same refund again when the amounts match, else refused.</summary>
    private static MerchantReply SameRefund(SandboxRefund existing, SandboxOrder order, long totalFee, long refundFee) =>
        !ReferenceEquals(existing.Order, order) ? MerchantReply.Fail("INVALID_REQUEST", "out_refund_no已用于其他订单")
        : existing.RefundFee != refundFee || totalFee != order.Terms.TotalFee ? MerchantReply.Fail("INVALID_REQUEST", "同一个out_refund_no退款金额要一致")
        : RefundReply(existing);

    /// <summary>The refund's answer; the caller holds, or no longer needs, the order's lock (the fields read are fixed once paid).</summary>
    private static MerchantReply RefundReply(SandboxRefund refund)
    {
        var order = refund.Order;
        var payment = order.Payment!;
        return MerchantReply.Success(
            new("transaction_id", payment.TransactionId),
            new("out_trade_no", order.OutTradeNo),
            new("out_refund_no", refund.OutRefundNo),
            new("refund_id", refund.RefundId),
            new("refund_fee", PayApi.Fen(refund.RefundFee)),
            new("total_fee", PayApi.Fen(order.Terms.TotalFee)),
            new("cash_fee", PayApi.Fen(payment.CashFee)));
    }

    private static MerchantReply RefundNotExist() => MerchantReply.Fail("REFUNDNOTEXIST", "退款订单查询失败");
}
