using System.Globalization;
using System.IO.Compression;
using System.Text;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// <c>/pay/downloadbill</c> (下载交易账单): the bill of a China-time day from what the sandbox recorded, written
/// with the library's <see cref="TradeBillParser"/>. A day's bill is published at <c>Sandbox:BillReadyAfter</c> (09:00)
/// the next day; before that it is "Bill Creating", a day without trades is "No Bill Exist", an unreadable date
/// "invalid bill_date" (error_code 20001, as the SDK fixtures show it).
/// </summary>
internal sealed class BillApi(SandboxStore store, RefundSettlement settlement, TimeProvider clock, IOptions<SandboxOptions> options)
{
    public const string TextContentType = "text/plain;charset=utf-8";
    public const string GzipContentType = "application/x-gzip";

    /// <summary>WeChat keeps bills for three months.</summary>
    private const int MonthsKept = 3;

    private readonly SandboxOptions _options = options.Value;

    public MerchantReply Download(MerchantRequest request)
    {
        if (request["bill_date"] is not { } dateText)
        {
            return MerchantReply.BillFail("missing parameter", null);
        }
        var type = request["bill_type"] switch
        {
            null or "ALL" => TradeBillType.All,
            "SUCCESS" => TradeBillType.Success,
            "REFUND" => TradeBillType.Refund,
            _ => (TradeBillType?)null,
        };
        if (type is null)
        {
            return MerchantReply.BillFail("invalid bill_type", null);
        }
        if (request["tar_type"] is { } tarType && tarType != "GZIP")
        {
            return MerchantReply.BillFail("invalid parameter", null);
        }
        var today = DateOnly.FromDateTime(clock.GetUtcNow().ToOffset(WeChatPayTime.BeijingOffset).DateTime);
        if (!DateOnly.TryParseExact(dateText, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var billDate)
            || billDate < today.AddMonths(-MonthsKept))
        {
            return MerchantReply.BillFail("invalid bill_date", "20001");
        }
        if (clock.GetUtcNow() < PublishedAt(billDate))
        {
            return MerchantReply.BillFail("Bill Creating", null);
        }
        var rows = Rows(billDate, type.Value);
        if (rows.Count == 0)
        {
            return MerchantReply.BillFail("No Bill Exist", "20002");
        }
        var text = TradeBillParser.Format(new TradeBill(billDate, rows, TradeBillSummary.Of(rows)), type.Value);
        var bytes = Encoding.UTF8.GetBytes(text);
        return request["tar_type"] is null ? MerchantReply.Raw(bytes, TextContentType) : MerchantReply.Raw(Gzip(bytes), GzipContentType);
    }

    /// <summary>When the bill of <paramref name="billDate"/> can be downloaded: the next day at <c>BillReadyAfter</c>, China time.</summary>
    public DateTimeOffset PublishedAt(DateOnly billDate) =>
        new DateTimeOffset(billDate.AddDays(1).ToDateTime(TimeOnly.MinValue), WeChatPayTime.BeijingOffset) + _options.BillReadyAfter;

    /// <summary>WeChat's fee on <paramref name="fen"/>: round half up, in whole fen.</summary>
    public static long ServiceFee(long fen, long ratePpm) => (fen * ratePpm + 500_000) / 1_000_000;

    /// <summary>The rate as the bill prints it: 6000 ppm → <c>0.60%</c>.</summary>
    public static string FormatRate(long ratePpm) =>
        string.Create(CultureInfo.InvariantCulture, $"{ratePpm / 10_000}.{ratePpm % 10_000 / 100:00}%");

    /// <summary>
    /// The day's rows. A payment is listed on the day of its time_end. A refund is listed on the day it was accepted,
    /// with that time as 交易时间 (the docs: "发起退款成功时间(注:不是退款成功时间)", and "退款发起成功就会出账"), so a
    /// refund that later ends REFUNDCLOSE or CHANGE is listed too, with that status. WeChat freezes the status when the
    /// bill is made; the sandbox shows the status at download. Such a refund gave nothing back, so its 退款金额 and
    /// 手续费 are 0 (the docs are silent; only 申请退款金额 shows what was asked).
    /// </summary>
    private List<TradeBillRow> Rows(DateOnly billDate, TradeBillType type)
    {
        var ratePpm = _options.FeeRatePpm;
        var rate = FormatRate(ratePpm);
        var rows = new List<TradeBillRow>();
        foreach (var order in store.Orders)
        {
            settlement.SettleDue(order);
            lock (order.Gate)
            {
                if (order.Payment is not { } payment)
                {
                    continue;
                }
                var common = new TradeBillRow
                {
                    TradeTime = payment.PaidAt,
                    AppId = order.Terms.AppId,
                    MchId = order.Terms.MchId,
                    DeviceInfo = order.Terms.DeviceInfo,
                    TransactionId = payment.TransactionId,
                    OutTradeNo = order.OutTradeNo,
                    OpenId = payment.PayerOpenid,
                    TradeType = order.Terms.TradeType,
                    BankType = "CFT",
                    FeeType = "CNY",
                    Body = order.Terms.Body,
                    Attach = order.Terms.Attach,
                    Rate = rate,
                };
                if (type != TradeBillType.Refund && DayOf(payment.PaidAt) == billDate)
                {
                    var total = order.Terms.TotalFee;
                    rows.Add(common with
                    {
                        TradeState = "SUCCESS",
                        SettlementTotalFeeFen = total,
                        CouponFeeFen = payment.CouponFee,
                        RefundId = "0",
                        OutRefundNo = "0",
                        RefundFeeFen = 0,
                        CouponRefundFeeFen = 0,
                        ServiceFeeFen = ServiceFee(total, ratePpm),
                        TotalFeeFen = total,
                        RequestedRefundFeeFen = 0,
                    });
                }
                if (type == TradeBillType.Success)
                {
                    continue;
                }
                foreach (var refund in order.Refunds.Where(r => DayOf(r.RequestedAt) == billDate))
                {
                    var refunded = refund.MovesMoney ? refund.RefundFee : 0;
                    rows.Add(common with
                    {
                        TradeTime = refund.RequestedAt,
                        TradeState = "REFUND",
                        SettlementTotalFeeFen = 0,
                        CouponFeeFen = 0,
                        RefundApplyTime = refund.RequestedAt,
                        RefundSuccessTime = refund.SuccessAt,
                        RefundId = refund.RefundId,
                        OutRefundNo = refund.OutRefundNo,
                        RefundFeeFen = refunded,
                        CouponRefundFeeFen = 0,
                        RefundType = "ORIGINAL",
                        RefundStatus = refund.StatusName,
                        ServiceFeeFen = -ServiceFee(refunded, ratePpm),
                        TotalFeeFen = 0,
                        RequestedRefundFeeFen = refund.RefundFee,
                    });
                }
            }
        }
        rows.Sort((a, b) => a.TradeTime.CompareTo(b.TradeTime));
        return rows;
    }

    private static DateOnly DayOf(DateTimeOffset time) => DateOnly.FromDateTime(time.ToOffset(WeChatPayTime.BeijingOffset).DateTime);

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }
}
