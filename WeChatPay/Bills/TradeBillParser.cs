using System.Globalization;
using System.Text;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Bills;

/// <summary>
/// The text of a v2 trade bill (<c>/pay/downloadbill</c>, 下载交易账单): a header line, one line per record whose
/// every field starts with a backtick, the summary header and one summary line. The client parses it and the
/// sandbox writes it, so both sides share this one definition. Parsing is strict: an unknown header, a field
/// without its backtick, a wrong column count or a missing or extra summary is refused.
/// </summary>
public static class TradeBillParser
{
    public const string SummaryHeader = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

    private const char Tick = '`';
    private const string Separator = ",`";

    private static readonly Column[] KnownColumns =
    [
        new("交易时间", r => WeChatPayTime.FormatDashed(r.TradeTime), (r, v) => r with { TradeTime = Time(v, "交易时间") ?? throw Malformed("交易时间 is empty.") }),
        new("公众账号ID", r => r.AppId, (r, v) => r with { AppId = Text(v) }),
        new("商户号", r => r.MchId, (r, v) => r with { MchId = Text(v) }),
        new("特约商户号", r => r.SubMchId, (r, v) => r with { SubMchId = Text(v) }),
        new("设备号", r => r.DeviceInfo, (r, v) => r with { DeviceInfo = Text(v) }),
        new("微信订单号", r => r.TransactionId, (r, v) => r with { TransactionId = Text(v) }),
        new("商户订单号", r => r.OutTradeNo, (r, v) => r with { OutTradeNo = Text(v) }),
        new("用户标识", r => r.OpenId, (r, v) => r with { OpenId = Text(v) }),
        new("交易类型", r => r.TradeType, (r, v) => r with { TradeType = Text(v) }),
        new("交易状态", r => r.TradeState, (r, v) => r with { TradeState = Text(v) }),
        new("付款银行", r => r.BankType, (r, v) => r with { BankType = Text(v) }),
        new("货币种类", r => r.FeeType, (r, v) => r with { FeeType = Text(v) }),
        new("应结订单金额", r => Yuan(r.SettlementTotalFeeFen), (r, v) => r with { SettlementTotalFeeFen = Fen(v, "应结订单金额") }),
        new("代金券金额", r => Yuan(r.CouponFeeFen), (r, v) => r with { CouponFeeFen = Fen(v, "代金券金额") }),
        new("退款申请时间", r => Dashed(r.RefundApplyTime), (r, v) => r with { RefundApplyTime = Time(v, "退款申请时间") }),
        new("退款成功时间", r => Dashed(r.RefundSuccessTime), (r, v) => r with { RefundSuccessTime = Time(v, "退款成功时间") }),
        new("微信退款单号", r => r.RefundId, (r, v) => r with { RefundId = Text(v) }),
        new("商户退款单号", r => r.OutRefundNo, (r, v) => r with { OutRefundNo = Text(v) }),
        new("退款金额", r => Yuan(r.RefundFeeFen), (r, v) => r with { RefundFeeFen = Fen(v, "退款金额") }),
        new("充值券退款金额", r => Yuan(r.CouponRefundFeeFen), (r, v) => r with { CouponRefundFeeFen = Fen(v, "充值券退款金额") }),
        new("退款类型", r => r.RefundType, (r, v) => r with { RefundType = Text(v) }),
        new("退款状态", r => r.RefundStatus, (r, v) => r with { RefundStatus = Text(v) }),
        new("商品名称", r => r.Body, (r, v) => r with { Body = Text(v) }),
        new("商户数据包", r => r.Attach, (r, v) => r with { Attach = Text(v) }),
        new("手续费", r => Yuan(r.ServiceFeeFen), (r, v) => r with { ServiceFeeFen = Fen(v, "手续费") }),
        new("费率", r => r.Rate, (r, v) => r with { Rate = Text(v) }),
        new("订单金额", r => Yuan(r.TotalFeeFen), (r, v) => r with { TotalFeeFen = Fen(v, "订单金额") }),
        new("申请退款金额", r => Yuan(r.RequestedRefundFeeFen), (r, v) => r with { RequestedRefundFeeFen = Fen(v, "申请退款金额") }),
        new("费率备注", r => r.RateRemark, (r, v) => r with { RateRemark = Text(v) }),
    ];

    /// <summary>The columns of each bill type, in WeChat's order (v2 下载交易账单, "交易账单格式说明" §2.1–2.3).</summary>
    private static readonly Dictionary<TradeBillType, Column[]> Layouts = new()
    {
        [TradeBillType.All] = Pick("交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
            "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型",
            "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"),
        [TradeBillType.Success] = Pick("交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
            "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "费率备注"),
        [TradeBillType.Refund] = Pick("交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
            "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "退款申请时间", "退款成功时间", "微信退款单号", "商户退款单号", "退款金额",
            "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"),
    };

    /// <summary>The header line of a bill type.</summary>
    public static string Header(TradeBillType type) => string.Join(',', Layouts[type].Select(c => c.Name));

    /// <summary>Parses a bill's text (a UTF-8 BOM and <c>\r\n</c> line ends are accepted).</summary>
    /// <exception cref="WeChatPayProtocolException">(Malformed) the text is not a bill.</exception>
    public static TradeBill Parse(string text, DateOnly billDate)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.TrimStart('\uFEFF').Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        if (lines.Count < 3)
        {
            throw Malformed("A bill has a header, a summary header and a summary line.");
        }
        var layout = Layouts.Values.FirstOrDefault(l => string.Join(',', l.Select(c => c.Name)) == lines[0])
            ?? throw Malformed("The first line is not a trade bill header.");
        var summaryAt = lines.Count - 2;
        var extraSummary = lines.FindIndex(1, summaryAt - 1, l => l == SummaryHeader);
        if (lines[summaryAt] != SummaryHeader || extraSummary >= 0)
        {
            throw Malformed("The summary header must be the next-to-last line, and only there.");
        }
        var rows = new List<TradeBillRow>(summaryAt - 1);
        for (var i = 1; i < summaryAt; i++)
        {
            var fields = Fields(lines[i], layout.Length, i + 1);
            var row = new TradeBillRow { TradeTime = default };
            for (var c = 0; c < layout.Length; c++)
            {
                row = layout[c].Read(row, fields[c]);
            }
            rows.Add(row);
        }
        var totals = Fields(lines[^1], 7, lines.Count);
        var summary = new TradeBillSummary(
            long.TryParse(totals[0], NumberStyles.None, CultureInfo.InvariantCulture, out var trades) ? trades : throw Malformed("总交易单数 is not a count."),
            Required(totals[1], "应结订单总金额"),
            Required(totals[2], "退款总金额"),
            Required(totals[3], "充值券退款总金额"),
            Required(totals[4], "手续费总金额"),
            Required(totals[5], "订单总金额"),
            Required(totals[6], "申请退款总金额"));
        return new TradeBill(billDate, rows, summary);
    }

    /// <summary>Writes <paramref name="bill"/> as WeChat does, in the columns of <paramref name="type"/>, lines ending in <c>\r\n</c>.</summary>
    public static string Format(TradeBill bill, TradeBillType type = TradeBillType.All)
    {
        ArgumentNullException.ThrowIfNull(bill);
        var layout = Layouts[type];
        var text = new StringBuilder().Append(Header(type)).Append("\r\n");
        foreach (var row in bill.Rows)
        {
            AppendFields(text, layout.Select(c => c.Write(row)));
        }
        text.Append(SummaryHeader).Append("\r\n");
        var s = bill.Summary;
        AppendFields(text, [
            s.TotalTrades.ToString(CultureInfo.InvariantCulture), FormatYuan(s.SettlementTotalFeeFen), FormatYuan(s.RefundFeeFen),
            FormatYuan(s.CouponRefundFeeFen), FormatYuan(s.ServiceFeeFen), FormatYuan(s.TotalFeeFen), FormatYuan(s.RequestedRefundFeeFen)]);
        return text.ToString();
    }

    /// <summary>
    /// Yuan as the bill prints it (<c>19.90</c>, <c>-0.01</c>, <c>0</c>) to fen, exactly: decimal digits past the
    /// second must be zeros (fees are printed with five), anything else is refused.
    /// </summary>
    /// <exception cref="WeChatPayProtocolException">(Malformed) not an amount of whole fen.</exception>
    public static long ParseFen(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();
        var negative = span.StartsWith("-");
        if (negative)
        {
            span = span[1..];
        }
        var dot = span.IndexOf('.');
        var whole = dot < 0 ? span : span[..dot];
        var fraction = dot < 0 ? [] : span[(dot + 1)..];
        if (whole.IsEmpty || whole.Length > 15 || !IsDigits(whole) || dot >= 0 && (fraction.IsEmpty || !IsDigits(fraction))
            || fraction.Length > 2 && fraction[2..].ContainsAnyExcept('0'))
        {
            throw Malformed($"'{text}' is not an amount in yuan.");
        }
        var fen = long.Parse(whole, NumberStyles.None, CultureInfo.InvariantCulture) * 100;
        if (fraction.Length > 0)
        {
            fen += (fraction[0] - '0') * 10;
        }
        if (fraction.Length > 1)
        {
            fen += fraction[1] - '0';
        }
        return negative ? -fen : fen;
    }

    /// <summary>Fen as yuan with two decimals: 1990 → <c>19.90</c>, −1 → <c>-0.01</c>.</summary>
    public static string FormatYuan(long fen)
    {
        var magnitude = fen < 0 ? (ulong)(-(fen + 1)) + 1 : (ulong)fen;
        return string.Create(CultureInfo.InvariantCulture, $"{(fen < 0 ? "-" : "")}{magnitude / 100}.{magnitude % 100:00}");
    }

    private static Column[] Pick(params string[] names) => [.. names.Select(n => KnownColumns.Single(c => c.Name == n))];

    private static string[] Fields(string line, int count, int lineNumber)
    {
        if (line.Length == 0 || line[0] != Tick)
        {
            throw Malformed($"Line {lineNumber} does not start with a backtick.");
        }
        var fields = line[1..].Split(Separator);
        if (fields.Length != count)
        {
            throw Malformed($"Line {lineNumber} has {fields.Length} backtick fields, not {count}.");
        }
        return fields;
    }

    private static void AppendFields(StringBuilder text, IEnumerable<string?> values)
    {
        var first = true;
        foreach (var value in values)
        {
            if (value is not null && (value.Contains(Separator, StringComparison.Ordinal) || value.AsSpan().ContainsAny('\r', '\n')))
            {
                throw new ArgumentException($"A bill field cannot hold a line break or ',`': '{value}'.", nameof(values));
            }
            text.Append(first ? "`" : ",`").Append(value);
            first = false;
        }
        text.Append("\r\n");
    }

    private static string? Text(string value) => value.Length == 0 ? null : value;

    private static long? Fen(string value, string column) => value.Length == 0 ? null : ParseFenOf(value, column);

    private static long Required(string value, string column) =>
        value.Length == 0 ? throw Malformed($"{column} is empty.") : ParseFenOf(value, column);

    private static long ParseFenOf(string value, string column)
    {
        try
        {
            return ParseFen(value);
        }
        catch (WeChatPayProtocolException ex)
        {
            throw Malformed($"{column}: {ex.Message}");
        }
    }

    private static DateTimeOffset? Time(string value, string column) =>
        value.Length == 0 ? null
        : WeChatPayTime.TryParseDashed(value, out var time) ? time
        : throw Malformed($"{column} '{value}' is not yyyy-MM-dd HH:mm:ss.");

    private static string? Yuan(long? fen) => fen is { } f ? FormatYuan(f) : null;

    private static string? Dashed(DateTimeOffset? time) => time is { } t ? WeChatPayTime.FormatDashed(t) : null;

    private static bool IsDigits(ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');

    private static WeChatPayProtocolException Malformed(string message) => new(WeChatPayRejectReason.Malformed, message);

    private sealed record Column(string Name, Func<TradeBillRow, string?> Write, Func<TradeBillRow, string, TradeBillRow> Read);
}
