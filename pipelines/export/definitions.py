"""The definitions printed on the About sheet (contract §3, in brief)."""

DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    ("月份", "Month", "Calendar month in China time (UTC+8). A centre's register state is "
     "its version valid on the month's last day."),
    ("运营中数据中心", "Centres operating", "Status 'operating' and commissioned (or no "
     "date) by the month's last day."),
    ("报送数据中心", "Centres reporting", "Operating centres with telemetry for at least "
     "half the hours of the month (coverage >= 50%)."),
    ("机架利用率", "Rack utilisation", "Sum of mean racks in use / sum of design racks, "
     "over reporting centres (capacity-weighted). Vacancy rate = 1 - rack utilisation."),
    ("电力利用率", "Power utilisation", "Sum of mean IT load / sum of design IT load (kW), "
     "over reporting centres."),
    ("电能利用效率", "PUE", "Facility load / IT load, summed over all reported hours."),
    ("算力利用率", "Compute utilisation", "Compute used / compute capacity (PFLOPS), summed "
     "over hours carrying both."),
    ("闲置中心占比", "Idle share", "Share of reporting centres with rack utilisation "
     "below 30%."),
    ("在建/在用比", "Pipeline ratio", "Design racks of centres under construction / racks "
     "in use."),
    ("同比增长", "Growth 12m", "Design racks (supply) and racks in use (demand) against the "
     "same month a year earlier; n/a where that month has no data."),
    ("利用率阈值", "Threshold", "65% for hubs and the provinces of a hub, else 60%."),
    ("过剩信号", "Glut signals", "low_utilisation (rack utilisation < threshold), "
     "supply_outpacing (supply growth - demand growth > 10 points), idle_centres (idle "
     "share > 30%), heavy_pipeline (pipeline ratio > 25%). A glut flag needs two or more."),
    ("过剩评分", "Glut score", "Mean of four parts clamped to [0, 1]: (threshold - "
     "utilisation) / threshold, growth gap / 0.5, idle share, pipeline ratio."),
    ("过剩预警名单", "Glut watchlist", "Operating centres of the provinces with a glut "
     "flag, most glutted province and emptiest centre first."),
    ("可售算力", "Sellable PFLOPS", "Per hub, over reporting centres with compute "
     "telemetry: sum of max(0, 0.9 x mean capacity - 95th percentile hourly use)."),
    ("往返时延", "RTT", "2 x 1.5 x great-circle km x 0.005 ms between hub reference points; "
     "an eastern hub is reachable at 20 ms or less."),
    ("达阈值月数", "Months to threshold", "Months until rack utilisation reaches the "
     "threshold at the current 12-month demand growth: 0 when already there; n/a when "
     "there is no utilisation, no growth, or more than 240 months. Clears by: that month."),
    ("消化在建月数", "Months to absorb pipeline", "The same, starting from utilisation with "
     "the centres under construction added at zero use."),
    ("许可证问题", "Licence findings", "expired_licence: operating on a licence expired "
     "before the month's last day; no_licence: operating with no licence number; "
     "reporting_while_not_operating: not operating, yet 24 or more telemetry hours in "
     "the month."),
    ("数据质量", "Data quality", "Open findings by province and rule: telemetry samples "
     "observed in the month, and undated findings (register rows, unreadable "
     "timestamps) until resolved. Findings whose centre ID names no province are listed "
     "last."),
    ("公式注入", "Formula safety", "Source text starting with = + - @ is stored as text in "
     "this workbook; in the CSVs such text is prefixed with an apostrophe (')."),
)
