using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Tests;

public sealed class TradeBillParserTests
{
    private static readonly TimeSpan China = TimeSpan.FromHours(8);

    /// <summary>A day with two payments (one with a coupon), a refund of one of them, and the summary.</summary>
    internal const string AllBill =
        "\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
        + "`2026-11-30 10:15:02,`wx2421b1c4370ec43b,`10000100,`,`,`4200000001202611300000000001,`g1a2b3P1,`o-alice,`JSAPI,`SUCCESS,`CFT,`CNY,`19.90,`0.00,`0,`0,`0.00,`0.00,`,`,`拼团-水果,`,`0.12,`0.60%,`19.90,`0.00,`\r\n"
        + "`2026-11-30 23:59:59,`wx2421b1c4370ec43b,`10000100,`,`WEB,`4200000001202611300000000002,`g1a2b3P2,`o-bob,`JSAPI,`SUCCESS,`CFT,`CNY,`1990.00,`5.00,`0,`0,`0.00,`0.00,`,`,`拼团-水果,`slot=2,`11.94,`0.60%,`1990.00,`0.00,`\r\n"
        + "`2026-11-30 12:00:00,`wx2421b1c4370ec43b,`10000100,`,`,`4200000001202611300000000001,`g1a2b3P1,`o-alice,`JSAPI,`REFUND,`CFT,`CNY,`0.00,`0.00,`50000000012026113000000001,`g1a2b3P1R,`19.90,`0.00,`ORIGINAL,`SUCCESS,`拼团-水果,`,`-0.12,`0.60%,`0.00,`19.90,`\r\n"
        + "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
        + "`3,`2009.90,`19.90,`0.00,`11.94,`2009.90,`19.90\r\n";

    [Fact]
    public void ParsesEveryRowAndTheSummaryOfAnAllBill()
    {
        var bill = TradeBillParser.Parse(AllBill, new DateOnly(2026, 11, 30));

        Assert.Equal(new DateOnly(2026, 11, 30), bill.BillDate);
        Assert.Equal(3, bill.Rows.Count);
        Assert.Equal(new TradeBillRow
        {
            TradeTime = new DateTimeOffset(2026, 11, 30, 10, 15, 2, China),
            AppId = "wx2421b1c4370ec43b",
            MchId = "10000100",
            TransactionId = "4200000001202611300000000001",
            OutTradeNo = "g1a2b3P1",
            OpenId = "o-alice",
            TradeType = "JSAPI",
            TradeState = "SUCCESS",
            BankType = "CFT",
            FeeType = "CNY",
            SettlementTotalFeeFen = 1990,
            CouponFeeFen = 0,
            RefundId = "0",
            OutRefundNo = "0",
            RefundFeeFen = 0,
            CouponRefundFeeFen = 0,
            Body = "拼团-水果",
            ServiceFeeFen = 12,
            Rate = "0.60%",
            TotalFeeFen = 1990,
            RequestedRefundFeeFen = 0,
        }, bill.Rows[0]);
        Assert.Equal("WEB", bill.Rows[1].DeviceInfo);
        Assert.Equal("slot=2", bill.Rows[1].Attach);
        Assert.Equal(199_000, bill.Rows[1].TotalFeeFen);
        Assert.Equal(500, bill.Rows[1].CouponFeeFen);
        var refund = bill.Rows[2];
        Assert.Equal(("REFUND", "50000000012026113000000001", "g1a2b3P1R", 1990L, "ORIGINAL", "SUCCESS", -12L, 1990L),
            (refund.TradeState, refund.RefundId, refund.OutRefundNo, refund.RefundFeeFen!.Value, refund.RefundType, refund.RefundStatus,
                refund.ServiceFeeFen!.Value, refund.RequestedRefundFeeFen!.Value));
        Assert.Null(refund.SubMchId);
        Assert.Null(refund.RefundApplyTime);
        Assert.Equal(new TradeBillSummary(3, 200_990, 1990, 0, 1194, 200_990, 1990), bill.Summary);
    }

    [Fact]
    public void FormatsWhatItParses()
    {
        var bill = TradeBillParser.Parse(AllBill, new DateOnly(2026, 11, 30));

        var text = TradeBillParser.Format(bill);

        Assert.Equal(AllBill.TrimStart('\uFEFF'), text);
        Assert.Equal(bill.Rows, TradeBillParser.Parse(text, bill.BillDate).Rows);
    }

    [Fact]
    public void WritesAndReadsTheRefundBillWithItsTwoRefundTimes()
    {
        var accepted = new DateTimeOffset(2026, 11, 30, 12, 0, 0, China);
        var row = new TradeBillRow
        {
            TradeTime = accepted,
            TradeState = "REFUND",
            RefundApplyTime = accepted,
            RefundSuccessTime = accepted.AddSeconds(3),
            RefundFeeFen = 1990,
            ServiceFeeFen = -12,
        };
        var bill = new TradeBill(new DateOnly(2026, 11, 30), [row], TradeBillSummary.Of([row]));

        var text = TradeBillParser.Format(bill, TradeBillType.Refund);

        Assert.StartsWith("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,", text);
        var parsed = TradeBillParser.Parse(text, bill.BillDate);
        Assert.Equal(row, Assert.Single(parsed.Rows));
        Assert.Equal(new TradeBillSummary(1, 0, 1990, 0, -12, 0, 0), parsed.Summary);
    }

    [Fact]
    public void WritesTheSuccessBillWithoutRefundColumns()
    {
        var row = new TradeBillRow { TradeTime = new DateTimeOffset(2026, 11, 30, 9, 0, 0, China), TotalFeeFen = 1, RefundId = "dropped" };
        var bill = new TradeBill(new DateOnly(2026, 11, 30), [row], TradeBillSummary.Of([row]));

        var parsed = TradeBillParser.Parse(TradeBillParser.Format(bill, TradeBillType.Success), bill.BillDate);

        Assert.Equal(row with { RefundId = null }, Assert.Single(parsed.Rows));
        Assert.Equal(20, TradeBillParser.Header(TradeBillType.Success).Split(',').Length);
    }

    [Theory]
    [InlineData("0.01", 1)]
    [InlineData("-0.01", -1)]
    [InlineData("1990.00", 199_000)]
    [InlineData("0", 0)]
    [InlineData("0.0", 0)]
    [InlineData("0.5", 50)]
    [InlineData("0.12000", 12)]
    [InlineData("-11.94", -1194)]
    [InlineData("92233720368.54", 9_223_372_036_854)]
    public void ParsesYuanToFenExactly(string yuan, long fen) => Assert.Equal(fen, TradeBillParser.ParseFen(yuan));

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("0.001")]
    [InlineData("0.00600")]
    [InlineData("1,000.00")]
    [InlineData("+1.00")]
    [InlineData("1e3")]
    [InlineData(" 1.00")]
    [InlineData("１.00")]
    [InlineData("1000000000000000.00")]
    public void RefusesAmountsThatAreNotWholeFen(string yuan)
    {
        var ex = Assert.Throws<WeChatPayProtocolException>(() => TradeBillParser.ParseFen(yuan));
        Assert.Equal(WeChatPayRejectReason.Malformed, ex.Reason);
    }

    [Theory]
    [InlineData(1, "0.01")]
    [InlineData(-1, "-0.01")]
    [InlineData(199_000, "1990.00")]
    [InlineData(0, "0.00")]
    [InlineData(long.MinValue, "-92233720368547758.08")]
    public void FormatsFenAsYuanWithTwoDecimals(long fen, string yuan) => Assert.Equal(yuan, TradeBillParser.FormatYuan(fen));

    [Theory]
    [InlineData("交易时间,公众账号ID,商户号", "交易时间,公众号ID,商户号")]
    [InlineData("`2026-11-30 10:15:02,`wx2421b1c4370ec43b", "2026-11-30 10:15:02,`wx2421b1c4370ec43b")]
    [InlineData("`0.12,`0.60%,`19.90,`0.00,`\r\n", "`0.12,`0.60%,`19.90,`0.00,\r\n")]
    [InlineData("`0.12,`0.60%,`19.90,`0.00,`\r\n", "`0.12,0.60%,`19.90,`0.00,`\r\n")]
    [InlineData("`3,`2009.90", "`3,`2009.90,`0")]
    [InlineData("`3,`2009.90", "3,`2009.90")]
    [InlineData("`2026-11-30 23:59:59", "`2026-11-30 24:59:59")]
    [InlineData("`1990.00,`5.00", "`1990.00,`5.001")]
    public void RefusesABillWithAWrongHeaderBacktickOrColumn(string from, string to)
    {
        var text = ReplaceFirst(AllBill, from, to);
        Assert.NotEqual(AllBill, text);

        var ex = Assert.Throws<WeChatPayProtocolException>(() => TradeBillParser.Parse(text, new DateOnly(2026, 11, 30)));
        Assert.Equal(WeChatPayRejectReason.Malformed, ex.Reason);
    }

    [Fact]
    public void RefusesABillWithoutItsSummaryOrWithASecondOne()
    {
        var lines = AllBill.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        string[] missing = [.. lines[..^1]];
        string[] noHeader = [.. lines[..^2], lines[^1]];
        string[] twice = [.. lines[..2], lines[^2], lines[^1], .. lines[2..]];

        foreach (var broken in new[] { missing, noHeader, twice })
        {
            Assert.Throws<WeChatPayProtocolException>(() => TradeBillParser.Parse(string.Join("\r\n", broken), new DateOnly(2026, 11, 30)));
        }
    }

    [Fact]
    public void AcceptsABillWithUnixLineEndsAndNoRows()
    {
        var text = TradeBillParser.Header(TradeBillType.All) + "\n" + TradeBillParser.SummaryHeader + "\n`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\n";

        var bill = TradeBillParser.Parse(text, new DateOnly(2026, 11, 30));

        Assert.Empty(bill.Rows);
        Assert.Equal(new TradeBillSummary(0, 0, 0, 0, 0, 0, 0), bill.Summary);
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return at < 0 ? text : string.Concat(text.AsSpan(0, at), to, text.AsSpan(at + from.Length));
    }
}
