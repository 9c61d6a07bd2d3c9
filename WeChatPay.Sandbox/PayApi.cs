using System.Globalization;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary><c>/pay/unifiedorder</c>, <c>/pay/orderquery</c> and <c>/pay/closeorder</c> (docs/wechatpay.md §2, §5.1, §5.2).</summary>
internal sealed class PayApi(SandboxStore store, FaultInjection faults, PaymentDesk desk, TimeProvider clock, IOptions<SandboxOptions> options)
{
    private static readonly string[] UnifiedOrderRequired =
        ["body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"];

    private static readonly HashSet<string> NotBusinessFields = new(StringComparer.Ordinal)
    {
        "nonce_str", WeChatPaySignature.SignField, WeChatPaySignature.SignTypeField,
    };

    private readonly SandboxOptions _options = options.Value;

    public MerchantReply UnifiedOrder(MerchantRequest request)
    {
        var now = clock.GetUtcNow();
        if (ValidateUnifiedOrder(request, now, out var timeExpire) is { } invalid)
        {
            return invalid;
        }
        var terms = new OrderTerms(
            AppId: request["appid"]!,
            MchId: request["mch_id"]!,
            Body: request["body"]!,
            Attach: request["attach"],
            DeviceInfo: request["device_info"],
            TotalFee: long.Parse(request["total_fee"]!, CultureInfo.InvariantCulture),
            TradeType: request["trade_type"]!,
            Openid: request["openid"],
            NotifyUrl: request["notify_url"]!,
            TimeExpire: timeExpire,
            BusinessFields: [.. request.Message.Where(f => !NotBusinessFields.Contains(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal)]);
        var candidate = new SandboxOrder(request["out_trade_no"]!, terms, request.SignType, NewPrepay(now), now);
        candidate.TraceParent = request.TraceParent;
        var order = store.AddOrGet(candidate, out var added);
        if (added)
        {
            return PrepayReply(order.Terms, candidate.Prepay);
        }
        Prepay prepay;
        lock (order.Gate)
        {
            order.TraceParent = request.TraceParent ?? order.TraceParent;
            if (order.State == OrderState.Success)
            {
                return MerchantReply.Fail("ORDERPAID", "该订单已支付");
            }
            if (order.State == OrderState.Closed)
            {
                return MerchantReply.Fail("ORDERCLOSED", "该订单已关闭");
            }
            if (!order.Terms.SameBusinessFieldsAs(terms))
            {
                return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.ReentryMismatch);
            }
            order.SignType = request.SignType;
            if (order.Prepay.ExpiresAt <= now)
            {
                order.Prepay = NewPrepay(now);
                store.IndexPrepay(order, order.Prepay.Id);
            }
            prepay = order.Prepay;
        }
        return PrepayReply(order.Terms, prepay);
    }

    public MerchantReply OrderQuery(MerchantRequest request)
    {
        if (request["transaction_id"] is null && request["out_trade_no"] is null)
        {
            return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing("out_trade_no或transaction_id"));
        }
        if (store.FindOrder(request["transaction_id"], request["out_trade_no"]) is not { } order)
        {
            return MerchantReply.Fail("ORDERNOTEXIST", MerchantMessages.OrderNotExist);
        }
        lock (order.Gate)
        {
            var tradeState = order.TradeState;
            var fields = new List<KeyValuePair<string, string?>>();
            if (order.Payment is { } payment)
            {
                fields.AddRange(
                [
                    new("openid", payment.PayerOpenid),
                    new("is_subscribe", "N"),
                    new("trade_type", order.Terms.TradeType),
                    new("bank_type", "CFT"),
                    new("total_fee", Fen(order.Terms.TotalFee)),
                    new("fee_type", "CNY"),
                    new("cash_fee", Fen(payment.CashFee)),
                ]);
                fields.AddRange(CouponFields(payment));
                fields.Add(new("transaction_id", payment.TransactionId));
                fields.Add(new("time_end", WeChatPayTime.FormatCompact(payment.PaidAt)));
            }
            else
            {
                fields.Add(new("total_fee", Fen(order.Terms.TotalFee)));
            }
            fields.Add(new("out_trade_no", order.OutTradeNo));
            fields.Add(new("attach", order.Terms.Attach));
            fields.Add(new("trade_state", tradeState));
            fields.Add(new("trade_state_desc", TradeStateDescription(tradeState)));
            return MerchantReply.Success(fields);
        }
    }

    public MerchantReply CloseOrder(MerchantRequest request)
    {
        if (request["out_trade_no"] is not { } outTradeNo)
        {
            return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing("out_trade_no"));
        }
        if (store.FindOrder(outTradeNo) is not { } order)
        {
            return MerchantReply.Fail("ORDERNOTEXIST", MerchantMessages.OrderNotExist);
        }
        PayIfTheFaultSaysSo(order);
        var now = clock.GetUtcNow();
        lock (order.Gate)
        {
            switch (order.State)
            {
                case OrderState.Success:
                    return MerchantReply.Fail("ORDERPAID", "订单已支付，不能发起关单");
                case OrderState.Closed:
                    return MerchantReply.Fail("ORDERCLOSED", "订单已关闭，无法重复关闭");
                case OrderState.NotPay when now - order.CreatedAt < _options.CloseMinAge:
                    return MerchantReply.Fail(
                        "INVALID_REQUEST",
                        $"订单生成后不能马上调用关单接口，最短调用时间间隔为{_options.CloseMinAge.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture)}分钟");
                default:
                    order.State = OrderState.Closed;
                    order.ClosedAt = now;
                    return MerchantReply.Success();
            }
        }
    }

    /// <summary>The <c>payOnClose</c> fault: the payer confirms just before the close arrives, through the cashier's path
    /// (so the payment notify goes out as usual); the close then finds the order paid.</summary>
    private void PayIfTheFaultSaysSo(SandboxOrder order)
    {
        bool unpaid;
        lock (order.Gate)
        {
            unpaid = order.State == OrderState.NotPay;
        }
        if (unpaid && faults.TryConsumePayOnClose())
        {
            desk.Pay(order, order.Terms.Openid ?? _options.EffectiveTestUsers[0], evenIfClosed: false, out _);
        }
    }

    /// <summary>coupon_fee, coupon_count, coupon_id_0, coupon_fee_0 when the payment used a coupon
    /// (coupon_type_0 deliberately missing, as WeChat sometimes sends it).</summary>
    public static IEnumerable<KeyValuePair<string, string?>> CouponFields(Payment payment)
    {
        if (payment.CouponFee <= 0)
        {
            yield break;
        }
        yield return new("coupon_fee", Fen(payment.CouponFee));
        yield return new("coupon_count", "1");
        yield return new("coupon_id_0", payment.CouponId);
        yield return new("coupon_fee_0", Fen(payment.CouponFee));
    }

    public static string Fen(long fen) => fen.ToString(CultureInfo.InvariantCulture);

    private static MerchantReply? ValidateUnifiedOrder(MerchantRequest request, DateTimeOffset now, out DateTimeOffset? timeExpire)
    {
        timeExpire = null;
        foreach (var field in UnifiedOrderRequired)
        {
            if (request[field] is null)
            {
                return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing(field));
            }
        }
        var tradeType = request["trade_type"]!;
        if (tradeType is not ("JSAPI" or "NATIVE" or "APP" or "MWEB"))
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("trade_type"));
        }
        if (tradeType == "JSAPI" && request["openid"] is null)
        {
            return MerchantReply.Fail("LACK_PARAMS", "JSAPI支付必须传openid");
        }
        if (tradeType == "NATIVE" && request["product_id"] is null)
        {
            return MerchantReply.Fail("LACK_PARAMS", "NATIVE支付必须传product_id");
        }
        if (!MerchantRules.TryParseFee(request["total_fee"], out _))
        {
            return MerchantReply.Fail("PARAM_ERROR", MerchantMessages.BadFormat("total_fee"));
        }
        if (!MerchantRules.IsOutTradeNo(request["out_trade_no"]!))
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("out_trade_no"));
        }
        if (!MerchantRules.IsNotifyUrl(request["notify_url"]!))
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("notify_url"));
        }
        if (!MerchantRules.IsIpAddress(request["spbill_create_ip"]!))
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("spbill_create_ip"));
        }
        if (request["fee_type"] is { } feeType && feeType != "CNY")
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("fee_type"));
        }
        (string Field, int Max)[] texts =
            [("body", 128), ("attach", 127), ("detail", 6000), ("device_info", 32), ("openid", 128), ("product_id", 32), ("goods_tag", 32), ("scene_info", 256)];
        foreach (var (field, max) in texts)
        {
            if (request[field] is { } value && !MerchantRules.IsText(value, max))
            {
                return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat(field));
            }
        }
        if (request["time_start"] is { } timeStart && !WeChatPayTime.TryParseCompact(timeStart, out _))
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("time_start"));
        }
        if (request["time_expire"] is { } expireText)
        {
            if (!WeChatPayTime.TryParseCompact(expireText, out var expire))
            {
                return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("time_expire"));
            }
            // WeChat raises an expiry less than a minute away to one minute.
            var earliest = now.AddMinutes(1);
            timeExpire = expire < earliest ? earliest : expire;
        }
        return null;
    }

    private Prepay NewPrepay(DateTimeOffset now) => new(SandboxIds.NewPrepayId(now), now, now + _options.PrepayLifetime);

    private static MerchantReply PrepayReply(OrderTerms terms, Prepay prepay) => MerchantReply.Success(
        new("trade_type", terms.TradeType),
        new("prepay_id", prepay.Id),
        new("code_url", terms.TradeType == "NATIVE" ? "weixin://wxpay/bizpayurl?pr=" + SandboxIds.NewToken(7) : null),
        new("mweb_url", terms.TradeType == "MWEB"
            ? "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + prepay.Id + "&package=" + SandboxIds.NewToken(10)
            : null));

    private static string TradeStateDescription(string tradeState) => tradeState switch
    {
        "SUCCESS" => "支付成功",
        "REFUND" => "订单发生过退款，退款详情请查询退款单",
        "CLOSED" => "订单已关闭",
        _ => "订单未支付",
    };
}
